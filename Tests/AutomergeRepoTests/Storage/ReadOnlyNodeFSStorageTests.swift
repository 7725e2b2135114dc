import AutomergeCore
import Foundation
import TestSupport
import Testing

@testable import AutomergeRepo

/// Reading a data directory without touching it, and the repo's "all files, else one by one" rule.
@Suite struct ReadOnlyNodeFSStorageTests {
    @Test func listsHashNamedChunkFilesSnapshotsFirstWithoutTouchingTheDirectory() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let id = try documentId(3)
        var builder = DocumentBuilder()
        let first = try builder.addChange()
        let second = try builder.addChange()
        let prefix = StorageKey.prefix(id).relativePath
        let snapshotName = NodeFSKeyHash.snapshotName(heads: [first.hash])
        let incrementalName = NodeFSKeyHash.incrementalName(for: second.bytes)
        try directory.write("\(prefix)/incremental/\(incrementalName)", second.bytes)
        try directory.write("\(prefix)/snapshot/\(snapshotName)", first.bytes)
        try directory.write("\(prefix)/snapshot/.DS_Store", [1, 2, 3])
        try directory.write("\(prefix)/incremental/\(incrementalName).bak", [4])
        // A running server's in-flight write: a read-only open must leave it.
        try directory.write(".tmp/in-flight", [9])
        let before = directory.allFiles()

        let storage = ReadOnlyNodeFSStorage(directory: directory.url)
        let files = try storage.chunkFiles(of: id)
        #expect(files.map(\.kind) == [.snapshot, .incremental])
        #expect(files.map(\.bytes) == [first.bytes, second.bytes])
        #expect(files.map { URL(fileURLWithPath: $0.path).lastPathComponent } == [snapshotName, incrementalName])
        #expect(directory.allFiles() == before)
        #expect(try directory.read(".tmp/in-flight") == [9])
    }

    @Test func nothingStoredIsEmptyAndAMissingRootCreatesNothing() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let missing = directory.url.appendingPathComponent("not-there", isDirectory: true)
        #expect(try ReadOnlyNodeFSStorage(directory: missing).chunkFiles(of: try documentId(4)).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: missing.path))
        #expect(try ReadOnlyNodeFSStorage(directory: directory.url).chunkFiles(of: try documentId(4)).isEmpty)
    }

    @Test func aConcatenationThatLoadsIsTakenWhole() throws {
        var builder = DocumentBuilder()
        let chunks = try (0..<3).map { _ in try builder.addChange() }
        let outcome = StoredChunkLoader.load(chunks.map(\.bytes), validation: .full) { ChangeGraph() }
        #expect(outcome.loaded == [0, 1, 2])
        #expect(outcome.skipped.isEmpty)
        #expect(outcome.lastError == nil)
        #expect(outcome.graph.heads == builder.graph.heads)
    }

    /// A file truncated by a crash spoils the concatenation; the others still load, one by one.
    @Test func unreadableFilesAreLeftOutOneByOne() throws {
        var builder = DocumentBuilder()
        let chunks = try (0..<3).map { _ in try builder.addChange() }
        var files = chunks.map(\.bytes)
        files[1] = Array(files[1].prefix(files[1].count / 2))
        let outcome = StoredChunkLoader.load(files, validation: .metadata) { ChangeGraph() }
        #expect(outcome.loaded == [0, 2])
        #expect(outcome.skipped == [1])
        #expect(outcome.lastError != nil)
        #expect(outcome.graph.contains(chunks[0].hash))
        #expect(!outcome.graph.contains(chunks[1].hash))
        // The third change is kept, waiting for the second (its dependency), as the repo keeps it.
        #expect(outcome.graph.queuedCount == 1)

        let nothing = StoredChunkLoader.load([[0x85, 0x6f], [1, 2, 3]], validation: .full) { ChangeGraph() }
        #expect(nothing.loaded.isEmpty)
        #expect(nothing.skipped == [0, 1])
        #expect(nothing.lastError != nil)
    }
}
