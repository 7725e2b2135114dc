import AutomergeCore
import Foundation
import TestSupport
import Testing

@testable import groundmist_sync

private let fixtures = SharedFixtures.folder("automerge")
private let fixturesPresent = SharedFixtures.isAvailable("automerge")

@Suite struct InspectJSONTests {
    @Test func materialisesBuiltChanges() throws {
        var document = AutomergeDocument(actor: ActorId([1, 2, 3]))
        let text = try document.putObject(.root, key: "note", .text)
        try document.splice(text, at: 0, delete: 0, insert: "héllo")
        try document.put(.root, key: "n", .uint(UInt64.max))
        document.commit()
        let bytes = document.changes.flatMap(\.bytes)
        #expect(try Inspector().materialize(bytes: bytes) == "{\n  \"n\": 18446744073709551615,\n  \"note\": \"héllo\"\n}\n")
    }

    @Test func malformedInputIsATypedError() {
        #expect(throws: AutomergeError.self) { try Inspector().materialize(bytes: [0x85, 0x6f, 0x4a]) }
        #expect(throws: AutomergeError.self) { try Inspector().materialize(bytes: Array("{}".utf8)) }
    }

    @Test(.enabled(if: fixturesPresent, "../shared/fixtures is absent: fixture tests skipped"))
    func executablePrintsTheReferenceJSON() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("groundmist-sync")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "swift test builds the executable beside the test bundle")
        for (file, json) in [
            ("generated/conflicts.automerge", "generated/conflicts.json"), ("generated/text-unicode.changes", "generated/text-unicode.json"),
            ("upstream/exemplar", "upstream/exemplar.json"),
        ] {
            let process = Process()
            process.executableURL = binary
            process.arguments = ["inspect", "--json", fixtures.appendingPathComponent(file).path]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            #expect(stdout == (try Data(contentsOf: fixtures.appendingPathComponent(json))), "\(file)")
        }
    }
}
