import AutomergeCore
import Foundation
import TestSupport
import Testing

@testable import groundmist_sync

private let fixtures = SharedFixtures.folder("automerge")
private let fixturesPresent = SharedFixtures.isAvailable("automerge")

private func fixture(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: fixtures.appendingPathComponent(path))) }

private func object(_ json: String) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(json.utf8))
    return try #require(value as? [String: Any])
}

@Suite struct InspectTests {
    @Test func describesTheEmptyDocument() throws {
        let empty: [UInt8] = [0x85, 0x6f, 0x4a, 0x83, 0xb8, 0x1a, 0x95, 0x44, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00]
        let json = try Inspector().describe(file: "empty", bytes: empty).compactLine()
        #expect(json == #"{"file":"empty","chunks":{"document":1,"change":0,"compressed":0},"changes":0,"heads":[],"actors":0}"#)
    }

    @Test func describesBuiltChangesWithMetadata() throws {
        let actor = ActorId(Array(repeating: 0xab, count: 16))
        let first = Change(
            actor: actor,
            seq: 1,
            startOp: 1,
            time: 7,
            message: "hi",
            ops: [Op(object: .root, key: .map("a"), action: .put, value: .int(1))]
        )
        let firstChunk = first.encodeChunk()
        let second = Change(deps: [firstChunk.hash], actor: actor, seq: 2, startOp: 2, time: 8).encodeChunk()
        let value = try object(Inspector(includeChanges: true).describe(file: "f", bytes: firstChunk.bytes + second.bytes).compactLine())
        #expect(value["changes"] as? Int == 2)
        #expect(value["heads"] as? [String] == [second.hash.hex])
        let list = try #require(value["changeList"] as? [[String: Any]])
        #expect(list.count == 2)
        #expect(list[0]["message"] as? String == "hi")
        #expect(list[0]["maxOp"] as? Int == 1)
        #expect(list[1]["deps"] as? [String] == [firstChunk.hash.hex])
        #expect(list[1]["message"] is NSNull)
        #expect(list[1]["maxOp"] as? Int == 1)
    }

    @Test func reportsMalformedInputAsATypedError() {
        #expect(throws: AutomergeError.self) { try Inspector().describe(file: "x", bytes: [0x85, 0x6f, 0x4a]) }
        #expect(throws: AutomergeError.self) { try Inspector().describe(file: "x", bytes: Array("{}".utf8)) }
        #expect(throws: AutomergeError.self) { try Inspector().describe(file: "x", bytes: [0x42, 0x01]) }
    }

    @Test func badChecksumNamesTheChunkAndOffset() throws {
        let change = Change(actor: ActorId([1, 2]), seq: 1, startOp: 1).encodeChunk()
        var bytes = change.bytes + change.bytes
        bytes[change.bytes.count + 5] ^= 0xff
        do {
            _ = try Inspector().describe(file: "x", bytes: bytes)
            Issue.record("a corrupted checksum was accepted")
        } catch {
            #expect(error.description == "bad checksum in chunk 1 at byte \(change.bytes.count)")
        }
    }

    @Test(.enabled(if: fixturesPresent, "../shared/fixtures is absent: fixture tests skipped"))
    func matchesReferenceHeadsForDocumentsAndSyncMessages() throws {
        for name in ["conflicts", "marks", "text-unicode", "changes-1000"] {
            let meta = try object(String(decoding: try fixture("generated/\(name).meta.json"), as: UTF8.self))
            for suffix in ["automerge", "changes"] {
                let value = try object(try Inspector().describe(file: name, bytes: try fixture("generated/\(name).\(suffix)")).compactLine())
                #expect(value["heads"] as? [String] == meta["heads"] as? [String])
                #expect(value["changes"] as? Int == meta["changes"] as? Int)
            }
        }
        let message = try object(
            try Inspector().describe(file: "m", bytes: try fixture("sync/messages/one-change-reply-to-empty-v2.bin")).compactLine()
        )
        #expect(message["kind"] as? String == "sync-message")
        #expect(message["version"] as? String == "v2")
        let state = try object(try Inspector().describe(file: "s", bytes: try fixture("sync/sync-state/two-shared-heads.bin")).compactLine())
        #expect((state["sharedHeads"] as? [String])?.count == 2)
    }

    /// The built executable: one JSON line per good file, one stderr line per bad one, exit 1.
    @Test func executableExitsWithOneForBadFiles() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("groundmist-sync")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "swift test builds the executable beside the test bundle")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("inspect-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("good.automerge")
        let bad = directory.appendingPathComponent("bad.automerge")
        try Data(Change(actor: ActorId([9]), seq: 1, startOp: 1).encodeChunk().bytes).write(to: good)
        try Data([0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 7, 0]).write(to: bad)
        let process = Process()
        process.executableURL = binary
        process.arguments = ["inspect", good.path, bad.path]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 1)
        #expect(stdout.split(separator: "\n").count == 1)
        #expect(stderr.split(separator: "\n").count == 1)
        #expect(stderr.contains("unknown chunk type 7 in chunk 0 at byte 0"))
    }
}
