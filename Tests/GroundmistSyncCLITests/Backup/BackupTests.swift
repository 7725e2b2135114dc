import AutomergeCore
import AutomergeRepo
import BenchmarkClients
import Foundation
import GroundmistSync
import Logging
import Synchronization
import TestSupport
import Testing

@testable import groundmist_sync

/// `backup` and `restore`: the tar format (and its malformed inputs), the refusals, and a round
/// trip taken while clients write to a running server.
@Suite struct BackupTests {
    static func entry(_ path: String, _ text: String) -> TarArchive.Entry {
        .init(path: path, kind: .file, mode: 0o640, modificationTime: 1_700_000_000, bytes: Array(text.utf8))
    }

    static func archive(_ entries: [TarArchive.Entry]) throws -> [UInt8] {
        var bytes: [UInt8] = []
        let writer = TarWriter { bytes += $0 }
        for entry in entries { try writer.append(entry) }
        try writer.finish()
        return bytes
    }

    /// Rewrites a header's checksum after a test changed its bytes on purpose.
    static func resum(_ bytes: inout [UInt8], header offset: Int) {
        for index in 148..<156 { bytes[offset + index] = 32 }
        let sum = bytes[offset..<offset + 512].reduce(0) { $0 + Int($1) }
        let digits = Array(String(sum, radix: 8).utf8)
        let field = Array(repeating: UInt8(ascii: "0"), count: 6 - digits.count) + digits + [0, 32]
        bytes.replaceSubrange((offset + 148)..<(offset + 156), with: field)
    }

    @Test func tarRoundTripsLongNamesAndBinaryData() throws {
        let long = "xyz/groundmist/library/2X/" + String(repeating: "a", count: 40) + "/incremental/" + String(repeating: "f", count: 64)
        let binary = TarArchive.Entry(
            path: "bin",
            kind: .file,
            mode: 0o600,
            modificationTime: 5,
            bytes: (0..<1500).map { UInt8($0 % 256) }
        )
        let entries = [
            Self.entry(long, "chunk"), binary, Self.entry("empty", ""),
            .init(path: "dir", kind: .directory, mode: 0o750, modificationTime: 0, bytes: []),
        ]
        let bytes = try Self.archive(entries)
        #expect(bytes.count % 512 == 0)
        #expect(try TarReader(bytes: bytes).entries() == entries)
        #expect(throws: TarArchive.Failure.pathTooLong(String(repeating: "b", count: 101))) {
            try TarWriter.split(String(repeating: "b", count: 101))
        }
    }

    @Test func systemTarReadsOurArchives() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tar") || FileManager.default.isExecutableFile(atPath: "/bin/tar")
        else { return }
        let directory = try temporaryDirectory("tar")
        defer { try? FileManager.default.removeItem(at: directory) }
        let long = "a/" + String(repeating: "b", count: 90) + "/" + String(repeating: "c", count: 60)
        let file = directory.appendingPathComponent("x.tar")
        try Data(try Self.archive([Self.entry(long, "hello"), Self.entry("top", "")])).write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["tar", "-tf", file.path]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let listing = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(listing.split(separator: "\n") == [Substring(long), "top"])
    }

    @Test func malformedArchivesFailWithATypedError() throws {
        let good = try Self.archive([Self.entry("a", "12345"), Self.entry("b/c", "x")])
        // Truncated anywhere: never a crash, always a clear error.
        for length in [0, 1, 511, 512, 600, 1023, 1024, 1536] {
            #expect(throws: TarArchive.Failure.self, "\(length)") { try TarReader(bytes: Array(good.prefix(length))).entries() }
        }
        var corrupt = good
        corrupt[3] ^= 0x20
        #expect(throws: TarArchive.Failure.badChecksum(offset: 0)) { try TarReader(bytes: corrupt).entries() }
        #expect(throws: TarArchive.Failure.notUstar(offset: 0)) {
            try TarReader(bytes: Array("not a tar file".utf8) + [UInt8](repeating: 1, count: 1024)).entries()
        }
        // Unsafe names, a link, a duplicate and an absurd size, each with a correct checksum.
        for (name, failure) in [
            ("../etc/passwd", TarArchive.Failure.unsafePath("../etc/passwd")), ("/etc/passwd", .unsafePath("/etc/passwd")),
            ("a//b", .unsafePath("a//b")), ("./a", .unsafePath("./a")),
        ] {
            var bytes = good
            bytes.replaceSubrange(0..<100, with: Array(name.utf8) + [UInt8](repeating: 0, count: 100 - name.utf8.count))
            Self.resum(&bytes, header: 0)
            #expect(throws: failure) { try TarReader(bytes: bytes).entries() }
        }
        var link = good
        link[156] = UInt8(ascii: "2")
        Self.resum(&link, header: 0)
        #expect(throws: TarArchive.Failure.unsupportedEntry(path: "a", type: UInt8(ascii: "2"))) { try TarReader(bytes: link).entries() }
        var duplicate = good
        duplicate.replaceSubrange(1024..<1027, with: [UInt8(ascii: "a"), 0, 0])
        Self.resum(&duplicate, header: 1024)
        #expect(throws: TarArchive.Failure.duplicate("a")) { try TarReader(bytes: duplicate).entries() }
        var huge = good
        huge.replaceSubrange(124..<136, with: Array("77777777777".utf8) + [0])
        Self.resum(&huge, header: 0)
        #expect(throws: TarArchive.Failure.self) { try TarReader(bytes: huge).entries() }
        var badSize = good
        badSize.replaceSubrange(124..<136, with: Array("12x45678901".utf8) + [0])
        Self.resum(&badSize, header: 0)
        #expect(throws: TarArchive.Failure.badNumber(field: "size", offset: 0)) { try TarReader(bytes: badSize).entries() }
    }

    @Test func mutatedArchivesNeverCrash() throws {
        let good = try Self.archive([Self.entry("a", "12345"), Self.entry("b/c", String(repeating: "x", count: 700))])
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var bytes = good
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if Bool.random(using: &generator) { Self.resum(&bytes, header: 0) }
            do {
                for entry in try TarReader(bytes: bytes).entries() { #expect(TarArchive.isSafe(entry.path)) }
            } catch {
                // A typed, described failure is the only other outcome.
                #expect(!error.description.isEmpty)
            }
        }
    }

    @Test func restoreRefusesANonEmptyDirectoryAndForeignArchives() throws {
        let directory = try temporaryDirectory("restore-refusals")
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = directory.appendingPathComponent("backup.tar")
        let source = directory.appendingPathComponent("source")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        try "id".write(to: source.appendingPathComponent("storage-adapter-id"), atomically: true, encoding: .utf8)
        let backup = try runCLI(["backup", "-o", archive.path, "--data-dir", source.path])
        #expect(backup.status == 0, "\(backup.stderr)")

        let occupied = directory.appendingPathComponent("occupied")
        try FileManager.default.createDirectory(at: occupied, withIntermediateDirectories: true)
        try "keep me".write(to: occupied.appendingPathComponent("precious"), atomically: true, encoding: .utf8)
        let refused = try runCLI(["restore", archive.path, "--data-dir", occupied.path])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("is not empty"))
        #expect(try String(contentsOf: occupied.appendingPathComponent("precious"), encoding: .utf8) == "keep me")

        let foreign = directory.appendingPathComponent("foreign.tar")
        try Data(try Self.archive([Self.entry("etc/motd", "hi")])).write(to: foreign)
        let notOurs = try runCLI(["restore", foreign.path, "--data-dir", directory.appendingPathComponent("new").path])
        #expect(notOurs.status != 0)
        #expect(notOurs.stderr.contains("not a groundmist-sync backup"))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("new/etc").path))

        let restored = directory.appendingPathComponent("restored")
        let restore = try runCLI(["restore", archive.path, "--data-dir", restored.path])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(try String(contentsOf: restored.appendingPathComponent("storage-adapter-id"), encoding: .utf8) == "id")
    }

    /// Temporary files of in-flight writes are never copied.
    @Test func temporaryFilesAreLeftOut() throws {
        let directory = try temporaryDirectory("backup-temporary")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data")
        for path in [".tmp/inflight", "state.json.tmp-12-34", ".groundmist/sessions.json", "ab/cdef/incremental/00aa"] {
            let url = data.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try path.write(to: url, atomically: false, encoding: .utf8)
        }
        var paths: [String] = []
        let summary = try DataDirectoryCopier(root: data.path).copy { paths.append($0.path) }
        #expect(paths == [".groundmist/sessions.json", "ab/cdef/incremental/00aa"])
        #expect(summary.documents == 1)
    }

    /// Backups taken while clients write restore to documents that load completely; the last
    /// one, taken after the writes, restores to exactly the server's documents (same heads).
    @Test(.timeLimit(.minutes(5))) func roundTripWhileClientsWrite() async throws {
        let directory = try temporaryDirectory("backup-live")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data")
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("groundmist-sync")
        let port = Int.random(in: 20000...60000)
        let server = Process()
        server.executableURL = binary
        server.arguments = ["serve", "--port", "\(port)", "--data-dir", data.path]
        server.environment = ["LOG_LEVEL": "warning", "PATH": "/usr/bin:/bin"]
        server.currentDirectoryURL = directory
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate() } }
        try await waitForListener(port: port, process: server)

        var logger = Logger(label: "backup-test")
        logger.logLevel = .critical
        let done = DoneFlag()
        let load = Task {
            defer { done.set() }
            return try await LoadGenerator(
                options: .init(url: "ws://127.0.0.1:\(port)", clients: 2, documents: 3, changes: 120),
                logger: logger
            ).run()
        }
        var live: [URL] = []
        var summaries: [String] = []
        repeat {
            let archive = directory.appendingPathComponent("live-\(live.count).tar")
            let result = try await runCLIAsync(["backup", "-o", archive.path, "--data-dir", data.path])
            #expect(result.status == 0, "\(result.stderr)")
            summaries.append(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
            live.append(archive)
        } while !done.isSet && live.count < 8
        _ = try await load.value
        // Stop the server (SIGTERM flushes), then the reference state.
        server.terminate()
        server.waitUntilExit()
        let final = directory.appendingPathComponent("final.tar")
        let finalBackup = try await runCLIAsync(["backup", "-o", final.path, "--data-dir", data.path])
        #expect(finalBackup.status == 0, "\(finalBackup.stderr)")

        let original = RestoredDocuments.check(root: data.path)
        #expect(original.problems.isEmpty)
        #expect(original.loaded == 6)
        let restored = directory.appendingPathComponent("restored-final")
        let restore = try await runCLIAsync(["restore", final.path, "--data-dir", restored.path])
        #expect(restore.status == 0, "\(restore.stderr)")
        let check = RestoredDocuments.check(root: restored.path)
        #expect(check.problems.isEmpty)
        #expect(check.heads == original.heads)
        #expect(check.heads.count == 6)

        // Every backup taken during the writes: complete documents whose changes the final state has.
        for (index, archive) in live.enumerated() {
            let target = directory.appendingPathComponent("restored-\(index)")
            let result = try await runCLIAsync(["restore", archive.path, "--data-dir", target.path])
            #expect(result.status == 0, "backup \(index): \(result.stderr)")
            let midway = RestoredDocuments.check(root: target.path)
            #expect(midway.problems.isEmpty, "backup \(index): \(midway.problems)")
            for (document, heads) in midway.heads {
                let finalHashes = try Self.hashes(root: data.path, document: document)
                #expect(heads.allSatisfy(finalHashes.contains), "backup \(index), \(document)")
            }
        }
        print("backup round trip: \(live.count) backups during the writes:\n" + summaries.joined(separator: "\n"))
    }

    /// Every change hash (hex) of a stored document.
    static func hashes(root: String, document: String) throws -> Set<String> {
        let parts = document.split(separator: "/").map(String.init)
        let group = ([root] + parts.dropLast(2)).joined(separator: "/")
        let id = try DocumentId(parts[parts.count - 2] + parts[parts.count - 1])
        let export = try DocumentExporter(directory: URL(fileURLWithPath: group, isDirectory: true)).export(id)
        var graph = ChangeGraph()
        try graph.load(export.bytes, validation: .full)
        return Set(graph.allHashes.map(\.hex))
    }
}

/// Set once, read from any thread.
final class DoneFlag: Sendable {
    private let state = Mutex(false)
    var isSet: Bool { state.withLock { $0 } }
    func set() { state.withLock { $0 = true } }
}
