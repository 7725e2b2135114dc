import AutomergeCore
import Foundation
import TestSupport
import Testing

@testable import AutomergeRepo

/// What opening a new document costs storage: one listing of its folders, and its folders made
/// while the peer's first changes are on their way.
@Suite struct NewDocumentStorageTests {
    /// The real file system, counting the lookups (`kind`) below one folder.
    final class CountingFileSystem: ForwardingFileSystem, @unchecked Sendable {
        let real = PosixFileSystem()
        let watched: String
        private let lock = NSLock()
        private var count = 0

        init(watching watched: String) { self.watched = watched }

        var lookups: Int { lock.withLock { count } }

        func kind(_ path: String) throws(StorageError) -> FileKind? {
            if path.contains(watched) { lock.withLock { count += 1 } }
            return try real.kind(path)
        }
    }

    @Test func aNewDocumentIsListedOnceWhenOpened() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let id = DocumentId.random()
        let fileSystem = CountingFileSystem(watching: StorageKey.prefix(id).relativePath)
        let store = DocumentStore(storage: try NodeFSStorage(directory: directory.url, fileSystem: fileSystem), gate: CompactionGate())

        // What the repo does for a first message: the cheap look, then the load.
        #expect(try await store.storedDocumentAndHeads(id) == nil)
        let listing = fileSystem.lookups
        #expect(listing > 0)
        #expect(try await store.load(id) == nil)
        #expect(fileSystem.lookups == listing, "the load listed the folders again")
        // Nothing stored: no sync state is looked for either.
        #expect(try await store.loadSyncState(id, storageId: "peer") == nil)
        #expect(fileSystem.lookups == listing)

        // The remembered listing is used once, and never after a save.
        var builder = DocumentBuilder()
        let chunk = try builder.addChange()
        #expect(try await store.storedDocumentAndHeads(id) == nil)
        try await store.save(id, chunks: [chunk])
        let loaded = try #require(try await store.load(id))
        #expect(loaded.graph.heads == [chunk.hash])
    }

    @Test(arguments: GroupCommit.FlushMode.allCases)
    func aNewDocumentsFoldersAreMadeBeforeItsFirstChangesArrive(mode: GroupCommit.FlushMode) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let storage = NodeFSRepoStorage(
            files: try NodeFSStorage(directory: directory.url, commits: GroupCommit(mode: mode)),
            compactionGate: CompactionGate()
        )
        let repo = Repo(configuration: .init(peerId: "server", sharePolicy: .requestsOnly, clock: TestClock()), storage: storage)
        let client = await RepoClient.scripted(to: repo, peerId: "client", storageId: "client-storage")
        _ = try await client.join()
        let id = DocumentId.random()
        try await client.change(id, key: "k", value: 1, actor: ActorId([1, 2, 3]))

        // The first message announces our heads and carries no change.
        var state = SyncState()
        let first = try #require(await client.graph(of: id).generateSyncMessage(&state))
        #expect(first.changes.isEmpty && !first.heads.isEmpty)
        await client.send(.sync(DocumentSyncMessage(senderId: "client", targetId: "server", documentId: id.string, data: first.encode())))
        _ = try await client.collect(until: { if case .sync = $0 { true } else { false } })
        let folder = "\(StorageKey.prefix(id).relativePath)/incremental"
        let folderPath = directory.url.appendingPathComponent(folder).path
        let made: @Sendable () -> Bool = { FileManager.default.fileExists(atPath: folderPath) }
        if mode == .fileSystem {
            try await eventually("the document's folder is made") { made() }
            #expect(directory.list(folder).isEmpty)
        } else {
            // Per-file flushes sync only the parents a round made itself: nothing is made ahead.
            try await Task.sleep(for: .milliseconds(50))
            #expect(!made())
        }

        // The changes then land in it as usual.
        try await client.sync(id)
        #expect(directory.list(folder).count == 1)
        #expect(try await storage.loadDocument(id)?.graph.heads == client.heads(of: id))
    }
}
