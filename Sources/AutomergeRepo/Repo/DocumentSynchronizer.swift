import AutomergeCore
import Logging

/// One document in memory: its change graph and, per peer, the sync state of this connection.
///
/// Every entry point runs under `mutex`, so the sequence "apply changes → make them durable →
/// answer" is never interleaved with another peer's messages: no peer hears of a change
/// (through our heads) before it is on disk.
actor DocumentSynchronizer {
    let id: DocumentId
    private let repoPeerId: String
    private let storage: (any RepoStorage)?
    private let logger: Logger
    private let debounce: Duration
    private let metrics: RepoMetrics
    private let mutex = AsyncMutex()

    private var graph = ChangeGraph()
    private var loaded = false
    private var peers: [String: PeerState] = [:]
    private var flushScheduled = false
    private var savedDocumentCache: (key: SavedDocumentKey, bytes: [UInt8])?

    private struct SavedDocumentKey: Equatable {
        var heads: [ChangeHash]
        var queued: Int
    }

    struct PeerState {
        var link: PeerLink
        var syncState: SyncState
        /// The shared heads last persisted for this peer.
        var persistedSharedHeads: [ChangeHash]?
        var wantsDocument = false
    }

    enum ReceiveError: Error {
        case invalidSyncMessage(AutomergeError)
        case storageFailure(any Error)
    }

    init(id: DocumentId, repoPeerId: String, storage: (any RepoStorage)?, debounce: Duration, logger: Logger, metrics: RepoMetrics = RepoMetrics()) {
        self.id = id
        self.metrics = metrics
        self.repoPeerId = repoPeerId
        self.storage = storage
        self.debounce = debounce
        self.logger = logger
    }

    /// True when no peer has the document open and nothing is running: safe to evict.
    var isIdle: Bool {
        get async {
            // A pending flush has nothing to do once no peer is left.
            guard peers.isEmpty else { return false }
            return await !mutex.isLocked
        }
    }

    var heads: [ChangeHash] { graph.heads }
    var changeCount: Int { graph.count }

    /// Applies a `sync`/`request` from a peer, makes new changes durable, answers the peer,
    /// tells it when we do not have the document either, and schedules the fan-out to the
    /// document's other peers.
    func receive(_ message: SyncMessage, from link: PeerLink, isRequest: Bool) async throws(ReceiveError) {
        await mutex.lock()
        let outcome = await receiveLocked(message, from: link, isRequest: isRequest)
        await mutex.unlock()
        try outcome.get()
    }

    private func receiveLocked(_ message: SyncMessage, from link: PeerLink, isRequest: Bool) async -> Result<Void, ReceiveError> {
        do {
            try await ensureLoaded()
        } catch {
            return .failure(.storageFailure(error))
        }
        var peer = await peerState(for: link)
        if isRequest { peer.wantsDocument = true }
        let headsBefore = graph.heads
        let result: ChangeGraph.SyncReceiveResult
        do {
            result = try graph.receiveSyncMessage(&peer.syncState, message)
        } catch {
            return .failure(.invalidSyncMessage(error))
        }
        if !result.applied.isEmpty {
            let start = ContinuousClock.now
            do {
                defer { metrics.recordWrite(since: start) }
                try await storage?.saveChanges(graph.chunks(for: result.applied), of: id, graph: graph)
            } catch {
                // The changes are not durable: forget them rather than ever acknowledge them.
                graph = ChangeGraph()
                loaded = false
                peers[link.peerId] = nil
                return .failure(.storageFailure(error))
            }
        }
        if let reply = graph.generateSyncMessage(&peer.syncState, wholeDocument: savedDocument) {
            await send(.sync(DocumentSyncMessage(senderId: repoPeerId, targetId: link.peerId, documentId: id.string, data: reply.encode())), to: link)
        }
        if graph.count == 0 && graph.queuedCount == 0 && isRequest {
            await send(.docUnavailable(DocUnavailableMessage(senderId: repoPeerId, targetId: link.peerId, documentId: id.string)), to: link)
        }
        // Sync states are an optimisation (a lost one costs one Bloom round): they are written
        // with the debounced flush, not once per message.
        let syncStateChanged = peer.persistedSharedHeads != peer.syncState.sharedHeads && peer.link.persistentStorageId != nil
        peers[link.peerId] = peer
        if graph.heads != headsBefore || syncStateChanged { scheduleFlush() }
        return .success(())
    }

    /// Starts syncing with a peer that did not ask (the announce share policy).
    func announce(to link: PeerLink) async {
        await mutex.lock()
        if (try? await ensureLoaded()) != nil, graph.count > 0 {
            var peer = await peerState(for: link)
            if let message = graph.generateSyncMessage(&peer.syncState, wholeDocument: savedDocument) {
                await send(
                    .sync(DocumentSyncMessage(senderId: repoPeerId, targetId: link.peerId, documentId: id.string, data: message.encode())),
                    to: link
                )
            }
            peers[link.peerId] = peer
        }
        await mutex.unlock()
    }

    /// Starts syncing with a peer the repo wants this document from: a `request` when we hold no
    /// changes, a `sync` otherwise. Does nothing if this connection is already syncing it.
    func requestOrSync(with link: PeerLink) async {
        await mutex.lock()
        if (try? await ensureLoaded()) != nil, peers[link.peerId]?.link.connectionId != link.connectionId {
            var peer = await peerState(for: link)
            if let message = graph.generateSyncMessage(&peer.syncState, wholeDocument: savedDocument) {
                let sync = DocumentSyncMessage(senderId: repoPeerId, targetId: link.peerId, documentId: id.string, data: message.encode())
                await send(graph.count == 0 ? .request(sync) : .sync(sync), to: link)
            }
            peers[link.peerId] = peer
        }
        await mutex.unlock()
    }

    /// Forgets a peer's connection-scoped state (its persisted shared heads remain).
    func removePeer(_ peerId: String, connection: RepoConnectionID) async {
        await mutex.lock()
        if peers[peerId]?.link.connectionId == connection {
            // Its sync state is normally written with the next flush: write it now.
            await persistSyncState(of: peerId)
            peers[peerId] = nil
        }
        await mutex.unlock()
    }

    /// The saved document (a compressed document chunk, spec §5.6) that V2 "whole document" replies
    /// carry, as the reference sends it. Cached by heads and queue size: building it replays every
    /// change. Nil when the graph cannot be written as a document (the reply then falls back to the
    /// change chunks, which every V2 reader also loads).
    private func savedDocument() -> [UInt8]? {
        let key = SavedDocumentKey(heads: graph.heads, queued: graph.queuedCount)
        if let cached = savedDocumentCache, cached.key == key { return cached.bytes }
        guard let bytes = try? graph.saveDocument() else {
            logger.warning("cannot write the document as one chunk; sending its changes", metadata: ["document": "\(id.string)"])
            return nil
        }
        savedDocumentCache = (key, bytes)
        return bytes
    }

    /// The peers that have this document open (for ephemeral relaying).
    func links() -> [PeerLink] { peers.values.map(\.link) }

    /// Sends whatever each peer needs now; used after changes and at shutdown.
    func flush() async {
        await mutex.lock()
        flushScheduled = false
        for peerId in peers.keys.sorted() {
            guard var peer = peers[peerId] else { continue }
            if let message = graph.generateSyncMessage(&peer.syncState, wholeDocument: savedDocument) {
                await send(
                    .sync(DocumentSyncMessage(senderId: repoPeerId, targetId: peerId, documentId: id.string, data: message.encode())),
                    to: peer.link
                )
            }
            peers[peerId] = peer
            await persistSyncState(of: peerId)
        }
        await mutex.unlock()
    }

    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        let delay = debounce
        Task { [weak self] in
            try? await Task.sleep(for: delay)
            await self?.flush()
        }
    }

    private func ensureLoaded() async throws {
        guard !loaded else { return }
        if let stored = try await storage?.loadDocument(id) { graph = stored }
        loaded = true
    }

    /// This connection's state for the peer: never a previous connection's live state, but the
    /// persisted shared heads (or a fresh state).
    private func peerState(for link: PeerLink) async -> PeerState {
        if let existing = peers[link.peerId], existing.link.connectionId == link.connectionId { return existing }
        var state = SyncState()
        var persisted: [ChangeHash]?
        if let storageId = link.persistentStorageId, let storage {
            do {
                if let bytes = try await storage.loadSyncState(of: id, peer: storageId) {
                    state = try SyncState(decoding: bytes)
                    persisted = state.sharedHeads
                }
            } catch {
                logger.warning("ignoring an unreadable sync state", metadata: ["document": "\(id)", "error": "\(error)"])
            }
        }
        return PeerState(link: link, syncState: state, persistedSharedHeads: persisted)
    }

    private func persistSyncState(of peerId: String) async {
        guard var peer = peers[peerId], let storageId = peer.link.persistentStorageId, let storage,
            peer.persistedSharedHeads != peer.syncState.sharedHeads, graph.count > 0
        else { return }
        let start = ContinuousClock.now
        do {
            defer { metrics.recordWrite(since: start) }
            try await storage.saveSyncState(peer.syncState.encode(), of: id, peer: storageId)
            peer.persistedSharedHeads = peer.syncState.sharedHeads
            peers[peerId] = peer
        } catch {
            logger.warning("could not save a sync state", metadata: ["document": "\(id)", "error": "\(error)"])
        }
    }

    private func send(_ message: RepoMessage, to link: PeerLink) async {
        await link.connection.send(message.encoded())
    }
}
