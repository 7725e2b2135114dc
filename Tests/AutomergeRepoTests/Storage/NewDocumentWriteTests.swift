import AutomergeCore
import Foundation
import TestSupport
import Testing

@testable import AutomergeRepo

#if canImport(Glibc)
import Glibc
#endif

/// Issue 13, a device coming back online: many documents new to the server sync at once. Their
/// first writes share rounds written by several threads, and their files are placed where
/// creating them stays cheap.
@Suite struct NewDocumentWriteTests {
    static func change(actorByte: UInt8) throws -> ChangeChunk {
        var builder = DocumentBuilder(actorByte: actorByte)
        return try builder.addChange()
    }

    /// Enough new documents at once that a round is shared among the writer threads; in each flush
    /// mode every write is acknowledged, on disk in the NodeFS layout, and `.tmp` is left empty.
    @Test(arguments: GroupCommit.FlushMode.allCases)
    func aLargeRoundOfNewDocumentsIsDurable(mode: GroupCommit.FlushMode) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let commits = GroupCommit(mode: mode)
        let storage = try NodeFSStorage(directory: directory.url, commits: commits)
        let saves = try (0..<96).map { index in (DocumentId.random(), try Self.change(actorByte: UInt8(index + 1))) }
        let results = await GroupCommitTests.appendConcurrently(storage, saves)
        #expect(results.allSatisfy { $0 })
        let totals = await commits.totals
        #expect(totals.writes == saves.count)
        #expect(totals.files == saves.count)
        #expect(GroupCommit.writerShares(files: 64) == GroupCommit.writerThreads)
        #expect(GroupCommit.writerShares(files: 15) == 1)
        let reopened = DocumentStore(storage: try NodeFSStorage(directory: directory.url), gate: CompactionGate())
        for (id, chunk) in saves {
            #expect(try await reopened.loadDocument(id)?.heads == [chunk.hash])
            let name = NodeFSKeyHash.incrementalName(for: chunk.bytes)
            #expect(directory.list("\(StorageKey.prefix(id).relativePath)/incremental") == [name])
        }
        #expect(directory.list(".tmp").isEmpty)
    }

    /// A round shared among threads still fails exactly the writes under the failing root.
    @Test func aLargeRoundFailsOnlyTheFailingRoot() async throws {
        let healthyDirectory = try TemporaryDirectory()
        let failingDirectory = try TemporaryDirectory()
        defer {
            healthyDirectory.remove()
            failingDirectory.remove()
        }
        let commits = GroupCommit(mode: .files)
        let failingFileSystem = GroupCommitTests.ControlledFileSystem()
        let good = try NodeFSStorage(directory: healthyDirectory.url, commits: commits)
        let bad = try NodeFSStorage(directory: failingDirectory.url, fileSystem: failingFileSystem, commits: commits)
        failingFileSystem.failNextSyncs(.max)
        let saves = try (0..<128).map { index in (index, DocumentId.random(), try Self.change(actorByte: UInt8(index % 200 + 1))) }
        let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
            for (index, id, chunk) in saves {
                let storage = index.isMultiple(of: 2) ? good : bad
                group.addTask { (index, (try? await storage.saveIncremental(id, chunk.bytes)) != nil) }
            }
            var outcomes: [Int: Bool] = [:]
            for await (index, ok) in group { outcomes[index] = ok }
            return outcomes
        }
        for (index, id, chunk) in saves {
            if index.isMultiple(of: 2) {
                #expect(outcomes[index] == true)
                let store = DocumentStore(storage: try NodeFSStorage(directory: healthyDirectory.url), gate: CompactionGate())
                #expect(try await store.loadDocument(id)?.heads == [chunk.hash])
            } else {
                #expect(outcomes[index] == false, "a write under the failing root was acknowledged")
            }
        }
        #expect(failingDirectory.list(".tmp").isEmpty)
        #expect(healthyDirectory.list(".tmp").isEmpty)
    }

    @Test func aFileCreatedNearItsDestinationExistsOnlyUnderItsName() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("AA/AAA/incremental/.keep", [])
        try directory.write(".tmp/.keep", [])
        let fileSystem = PosixFileSystem()
        let destination = directory.url.appendingPathComponent("AA/AAA/incremental").path
        let temporary = directory.url.appendingPathComponent(".tmp/one").path
        let descriptor = try fileSystem.createFile(temporary, near: destination, permissions: 0o644)
        try fileSystem.write(descriptor, [1, 2, 3], path: temporary)
        try fileSystem.close(descriptor, path: temporary)
        #expect(try directory.read(".tmp/one") == [1, 2, 3])
        #expect(directory.list("AA/AAA/incremental") == [".keep"])
        // Exclusive, as `createFile` is: a taken name is an error, and the file is untouched.
        #expect(throws: StorageError.self) { try fileSystem.createFile(temporary, near: destination, permissions: 0o644) }
        #expect(try directory.read(".tmp/one") == [1, 2, 3])
        // A destination that does not exist (yet) still gets its file, made the plain way.
        let other = directory.url.appendingPathComponent(".tmp/two").path
        let second = try fileSystem.createFile(other, near: destination + "/missing", permissions: 0o644)
        try fileSystem.close(second, path: other)
        #expect(directory.list(".tmp").sorted() == [".keep", "one", "two"])
    }

    #if os(Linux)
    /// Where the file system supports it (ext4 here), the file really is made unnamed in its
    /// destination's folder and linked into `.tmp`, not made there the plain way.
    @Test func theUnnamedWayWorksOnExt4() throws {
        guard let directory = try Self.ext4Directory() else { return }
        defer { directory.remove() }
        try directory.write("AA/AAA/incremental/.keep", [])
        try directory.write(".tmp/.keep", [])
        let path = directory.url.appendingPathComponent(".tmp/linked").path
        let destination = directory.url.appendingPathComponent("AA/AAA/incremental").path
        let result = PosixFileSystem.createLinkedUnnamedFile(path, in: destination, permissions: 0o600)
        let descriptor = try result.get()
        try PosixFileSystem().write(descriptor, [7, 8], path: path)
        try PosixFileSystem().close(descriptor, path: path)
        #expect(try directory.read(".tmp/linked") == [7, 8])
        #expect(directory.list("AA/AAA/incremental") == [".keep"])
        // A taken name fails with EEXIST and leaves the file as it was.
        guard case .failure(let error) = PosixFileSystem.createLinkedUnnamedFile(path, in: destination, permissions: 0o600) else {
            Issue.record("linked over an existing file")
            return
        }
        #expect(error.isFileExists)
        #expect(try directory.read(".tmp/linked") == [7, 8])
    }

    /// On ext2/3/4 the data directory is marked as the top of a hierarchy (`chattr +T`).
    @Test func theDataDirectoryIsMarkedTopOfHierarchyOnExt4() throws {
        guard let directory = try Self.ext4Directory() else { return }
        defer { directory.remove() }
        let root = directory.url.appendingPathComponent("data").path
        _ = try NodeFSStorage(directory: URL(fileURLWithPath: root), commits: GroupCommit())
        let flags = try #require(PosixFileSystem.inodeFlags(root))
        #expect(flags & PosixFileSystem.topDirectoryFlag != 0)
        // Opening it again leaves the flag as it is.
        _ = try NodeFSStorage(directory: URL(fileURLWithPath: root), commits: GroupCommit())
        #expect(PosixFileSystem.inodeFlags(root) == flags)
    }

    /// The type of the file system holding `path`, from the longest matching mount point.
    /// A temporary folder on ext2/3/4, or nil (with a message) where the temporary folder is elsewhere.
    static func ext4Directory() throws -> TemporaryDirectory? {
        let directory = try TemporaryDirectory()
        guard let type = fileSystemType(of: directory.url.path), type.hasPrefix("ext") else {
            print("skipped: the temporary folder is not on ext2/3/4")
            directory.remove()
            return nil
        }
        return directory
    }

    /// An unnamed file has no name until `link`; closed before, it is gone. `link` refuses a taken
    /// name (`EEXIST`) and leaves that file as it was.
    @Test func anUnnamedFileExistsOnlyOnceLinked() throws {
        guard let directory = try Self.ext4Directory() else { return }
        defer { directory.remove() }
        try directory.write("AA/AAA/incremental/taken", [1])
        let folder = directory.url.appendingPathComponent("AA/AAA/incremental").path
        let fileSystem = PosixFileSystem()

        let dropped = try #require(try fileSystem.createUnnamedFile(in: folder, permissions: 0o644))
        try fileSystem.write(dropped, [9], path: folder)
        try fileSystem.close(dropped, path: folder)
        #expect(directory.list("AA/AAA/incremental") == ["taken"])

        let kept = try #require(try fileSystem.createUnnamedFile(in: folder, permissions: 0o644))
        try fileSystem.write(kept, [7, 8], path: folder)
        #expect(throws: StorageError.self) { try fileSystem.link(kept, to: folder + "/taken") }
        #expect(try directory.read("AA/AAA/incremental/taken") == [1])
        try fileSystem.link(kept, to: folder + "/named")
        try fileSystem.close(kept, path: folder)
        #expect(try directory.read("AA/AAA/incremental/named") == [7, 8])
        #expect(directory.list("AA/AAA/incremental") == ["named", "taken"])
        // A folder that does not exist gives no unnamed file (the caller falls back).
        #expect(try fileSystem.createUnnamedFile(in: folder + "/missing", permissions: 0o644) == nil)
    }

    static func fileSystemType(of path: String) -> String? {
        guard let mounts = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return nil }
        var best: (point: String, type: String)?
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 2 else { continue }
            let point = String(fields[1])
            let matches = point == "/" || path == point || path.hasPrefix(point + "/")
            if matches, point.count >= (best?.point.count ?? -1) { best = (point, String(fields[2])) }
        }
        return best?.type
    }
    #endif
}
