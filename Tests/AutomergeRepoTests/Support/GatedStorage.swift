import AutomergeCore
import TestSupport

@testable import AutomergeRepo

/// Storage whose saves of a chosen document (and, when closed, its sync-state writes and
/// releases) wait until the test opens them; it logs the loads and releases it saw.
actor GatedStorage: RepoStorage {
    let inner = InMemoryRepoStorage(storageId: "gated")
    private var closed: Set<DocumentId> = []
    private var waiting: [DocumentId: [CheckedContinuation<Void, Never>]] = [:]
    /// Every save, in the order it reached storage: the document and its change hashes.
    private(set) var saves: [(DocumentId, [ChangeHash])] = []

    func close(_ id: DocumentId) { closed.insert(id) }

    func open(_ id: DocumentId) {
        closed.remove(id)
        for waiter in waiting.removeValue(forKey: id) ?? [] { waiter.resume() }
    }

    var waitingSaves: Int { waiting.values.reduce(0) { $0 + $1.count } }

    private func gate(_ id: DocumentId) async {
        guard closed.contains(id) else { return }
        await withCheckedContinuation { waiting[id, default: []].append($0) }
    }

    func storageId() async throws -> String { await inner.storageId() }
    func loadDocument(_ id: DocumentId) async throws -> LoadedDocument? {
        events.append("load")
        return try await inner.loadDocument(id)
    }

    func saveChanges(_ chunks: [ChangeChunk], of id: DocumentId) async throws {
        await gate(id)
        saves.append((id, chunks.map(\.hash)))
        await inner.saveChanges(chunks, of: id)
    }

    func saveReceived(_ bytes: [UInt8], isWholeDocument: Bool, heads: [ChangeHash], of id: DocumentId) async throws {
        await gate(id)
        var reader = ChunkReader(bytes)
        var hashes: [ChangeHash] = []
        while let chunk = try reader.next() {
            if case .change(let change) = chunk { hashes.append(change.hash) }
        }
        saves.append((id, hashes))
        await inner.saveReceived(bytes, isWholeDocument: isWholeDocument, heads: heads, of: id)
    }

    func storedDocument(_ id: DocumentId) async throws -> [UInt8]? { await inner.storedDocument(id) }
    func changes(_ hashes: [ChangeHash], of id: DocumentId) async throws -> [ChangeChunk] { try await inner.changes(hashes, of: id) }
    func storedDocumentAndHeads(_ id: DocumentId) async throws -> (bytes: [UInt8], heads: [ChangeHash])? {
        events.append("load")
        return nil
    }
    func loadSyncState(of id: DocumentId, peer storageId: String) async throws -> [UInt8]? {
        await inner.loadSyncState(of: id, peer: storageId)
    }
    func saveSyncState(_ bytes: [UInt8], of id: DocumentId, peer storageId: String) async throws {
        syncStateWritesStarted += 1
        if syncStatesClosed { await withCheckedContinuation { syncStateWaiters.append($0) } }
        await inner.saveSyncState(bytes, of: id, peer: storageId)
    }

    /// Sync-state writes wait while closed (`openSyncStates` lets them go).
    var syncStatesClosed = false
    private(set) var syncStateWritesStarted = 0
    private var syncStateWaiters: [CheckedContinuation<Void, Never>] = []

    func closeSyncStates() { syncStatesClosed = true }

    func openSyncStates() {
        syncStatesClosed = false
        for waiter in syncStateWaiters { waiter.resume() }
        syncStateWaiters = []
    }
    func release(_ id: DocumentId) async {
        if releasesClosed { await withCheckedContinuation { releaseWaiters.append($0) } }
        events.append("release")
    }

    /// Loads (`load`) and finished releases (`release`), in order.
    private(set) var events: [String] = []
    /// Releases wait while closed (`openReleases` lets them go).
    private var releasesClosed = false
    private var releaseWaiters: [CheckedContinuation<Void, Never>] = []
    var waitingReleases: Int { releaseWaiters.count }

    func closeReleases() { releasesClosed = true }

    func openReleases() {
        releasesClosed = false
        for waiter in releaseWaiters { waiter.resume() }
        releaseWaiters = []
    }
}

/// A connection that keeps what the repo sent.
actor Recorder: RepoConnection {
    private(set) var frames: [RepoMessage] = []
    func send(_ bytes: [UInt8]) async {
        if let message = try? RepoMessage(decoding: bytes) { frames.append(message) }
    }
    func close() async {}

    /// The heads of the last `sync` the repo sent for the document (nil before any).
    func lastHeads(of id: DocumentId) -> [ChangeHash]? {
        for case .sync(let message) in frames.reversed() where message.documentId == id.string {
            return (try? SyncMessage.decode(message.data))?.heads
        }
        return nil
    }
}
