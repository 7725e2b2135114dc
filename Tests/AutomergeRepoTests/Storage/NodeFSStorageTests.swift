import AutomergeCore
import Foundation
import TestSupport
import Testing

@testable import AutomergeRepo

/// Behaviour specific to the on-disk adapter: stray files, the storage id, restarts, path safety.
@Suite struct NodeFSStorageTests {
    private func key(_ components: String...) throws -> StorageKey { try StorageKey(components) }

    @Test func strayFilesAreIgnoredAndTempLeftoversRemovedAtStartup() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("AA/AAA/snapshot/real", [1])
        try directory.write("AA/AAA/snapshot/.DS_Store", [2])
        try directory.write("AA/AAA/.hidden-folder/x/y", [3])
        try directory.write("AA/AAA/incremental/.abc.tmp", [4])
        try directory.write(".tmp/3F2504E0-4F89-11D3-9A0C-0305E82C3301", [5, 5])  // a torn write from a crash
        try directory.write(".tmp/partial", [6])
        try directory.write("stray-at-root", [7])

        let storage = try NodeFSStorage(directory: directory.url)
        #expect(directory.list(".tmp").isEmpty)
        let chunks = try await storage.loadRange(try key("AAAAA"))
        #expect(chunks.map(\.0) == [try key("AAAAA", "snapshot", "real")])
        #expect(chunks.first?.1 == [1])
        // Other strays are left alone: they are not ours to delete.
        #expect(directory.exists("AA/AAA/snapshot/.DS_Store"))
        #expect(directory.exists("stray-at-root"))

        // removeRange does delete everything below the prefix, strays included, as NodeFS does.
        try await storage.removeRange(try key("AAAAA"))
        #expect(!directory.exists("AA/AAA"))
        #expect(directory.exists("AA"))
    }

    @Test func aValidKeyNeverMapsIntoTheTempFolder() throws {
        // The first path segment of every key is exactly 2 characters; ".tmp" has 4.
        #expect(NodeFSStorage.temporaryFolderName.utf16.count != 2)
        let nearest = try key(".tmp", "x")
        #expect(nearest.pathComponents.first == ".t")
    }

    @Test func writesLeaveNoTempFiles() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let storage = try NodeFSStorage(directory: directory.url)
        for index in 0..<20 { try await storage.save(try key("AAAAA", "incremental", "n\(index)"), [UInt8(index)]) }
        #expect(directory.list(".tmp").isEmpty)
        #expect(directory.list("AA/AAA/incremental").count == 20)
    }

    @Test func storageIdIsCreatedOnceAsLowercaseUUIDText() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = try await NodeFSStorage(directory: directory.url).storageId()
        #expect(first.count == 36)
        #expect(UUID(uuidString: first) != nil)
        #expect(first == first.lowercased())
        #expect(try directory.read("st/orage-adapter-id") == Array(first.utf8))
        let storage = try NodeFSStorage(directory: directory.url)
        #expect(try await storage.storageId() == first)
        #expect(try await storage.storageId() == first)
        #expect(directory.allFiles() == ["st/orage-adapter-id"])
    }

    @Test func unusableStorageIdIsAnError() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("st/orage-adapter-id", Array("6f15897f-bf71-4e3f-9951-88c0c2999498\n".utf8))
        let error = await #expect(throws: StorageError.self) {
            _ = try await NodeFSStorage(directory: directory.url).storageId()
        }
        guard case .invalidStorageId(let path, _)? = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(path.hasSuffix("st/orage-adapter-id"))
        // Untouched: the operator decides.
        #expect(try directory.read("st/orage-adapter-id").count == 37)
    }

    @Test func aNewInstanceOnTheSameDirectorySeesEverything() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let id = try documentId(1)
        var builder = DocumentBuilder()
        let first = try NodeFSStorage(directory: directory.url)
        let store = DocumentStore(storage: first)
        for _ in 0..<5 { try builder.addChange() }
        try await store.save(id, chunks: builder.graph.allHashes.compactMap { builder.graph.chunk(for: $0) })
        await store.waitForCompactions()
        let chunk = try builder.addChange()
        try await store.save(id, chunks: [chunk])
        await store.waitForCompactions()
        try await store.saveSyncState(id, storageId: "peer-storage", bytes: [0x43, 0])
        let storageId = try await first.storageId()

        let second = try NodeFSStorage(directory: directory.url)
        #expect(try await second.storageId() == storageId)
        let reloaded = try #require(try await DocumentStore(storage: second).loadDocument(id))
        #expect(reloaded.heads == builder.graph.heads)
        #expect(reloaded.count == 6)
        #expect(try await DocumentStore(storage: second).loadSyncState(id, storageId: "peer-storage") == [0x43, 0])
    }

    @Test func errorsCarryThePathAndErrnoText() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let storage = try NodeFSStorage(directory: directory.url)
        // A file where a directory is needed.
        try directory.write("AA/AAA", [1])
        let target = try key("AAAAA", "snapshot", "x")
        let error = await #expect(throws: StorageError.self) { try await storage.save(target, [1]) }
        guard case .io(_, let path, let code, let reason)? = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(path.contains("/AA/AAA"))
        #expect(code != 0)
        #expect(!reason.isEmpty)
        #expect(error?.description.contains(path) == true)
        #expect(directory.list(".tmp").isEmpty)
    }
}
