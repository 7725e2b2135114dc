import AutomergeCore
import Logging

/// One document in memory: its change graph and, per peer, the sync state of this connection.
///
/// Every entry point runs under the document's one lock (`lock()`), so the sequence "apply changes →
/// make them durable → answer" is never interleaved with another peer's messages: no peer hears of a
/// change (through our heads) before it is on disk. Storage takes no lock of its own for the document,
/// and compaction happens in storage's background, outside this lock.
actor DocumentSynchronizer {
    let id: DocumentId
    /// `id.string`, spelled out once (Base58) rather than for every message sent.
    private let idString: String
    private let repoPeerId: String
    private let storage: (any RepoStorage)?
    private let logger: Logger
    private let debounce: Duration
    /// About the time between two writes of one peer's sync state (see `syncStateWrite`).
    private let syncStateInterval: Duration
    private let clock: any Clock<Duration>
    private let metrics: RepoMetrics
    /// How far a peer's compressed changes may inflate (`Repo.Configuration.inflation`).
    private let inflation: InflationLimits
    /// The document's lock: held across awaits (storage, network), which actor reentrancy alone
    /// would not prevent. It is this actor's own state, so taking it when free costs no hop.
    private var locked = false
    /// Waiting for the lock, in order; `unlock` hands it to the first.
    private var lockWaiters: [CheckedContinuation<Void, Never>] = []

    private var graph: ChangeGraph
    private var loaded = false
    private var peers: [String: PeerState] = [:]
    private var flushScheduled = false
    /// Changes whose bytes go once the next flush has sent them to the document's peers (see
    /// `ChangeGraph.releaseLargeChangeBytes`).
    private var releaseAfterFlush: [ChangeHash] = []
    /// Chunk files exist but none could be read: the document is answered `doc-unavailable` rather
    /// than served as empty.
    private var unavailable = false

    /// Entry points running now, counted from their first line (before they wait for the lock):
    /// the document is idle only when none is.
    private var active = 0
    /// Set once the repo let the document go (`retireIfIdle`): it takes no more work, and the repo
    /// hands what comes next to a new synchronizer.
    private(set) var isRetired = false
    /// The retired synchronizer this one replaces: it may still be letting go of storage, which this
    /// one waits for before it reads storage (else storage could forget this one's files).
    private var predecessor: DocumentSynchronizer?
    /// Letting go of storage once retired.
    private var releasing: Task<Void, Never>?
    /// Storage was told a new document's first changes are coming (`RepoStorage.prepare`).
    private var preparedStorage = false

    struct PeerState {
        var link: PeerLink
        var syncState: SyncState
        /// The shared heads last persisted for this peer.
        var persistedSharedHeads: [ChangeHash]?
        /// When this connection may next write the peer's sync state (nil: at once).
        var nextPersist: ContinuousClock.Instant?
        var wantsDocument = false
    }

    enum ReceiveError: Error {
        case invalidSyncMessage(AutomergeError)
        case storageFailure(any Error)
    }

    init(
        id: DocumentId,
        repoPeerId: String,
        storage: (any RepoStorage)?,
        debounce: Duration,
        syncStateInterval: Duration = .zero,
        clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger,
        metrics: RepoMetrics = .disabled,
        inflation: InflationLimits = .syncMessage,
        predecessor: DocumentSynchronizer? = nil
    ) {
        self.id = id
        self.predecessor = predecessor
        idString = id.string
        self.metrics = metrics
        self.inflation = inflation
        self.repoPeerId = repoPeerId
        self.storage = storage
        self.debounce = debounce
        self.syncStateInterval = syncStateInterval
        self.clock = clock
        self.logger = logger
        graph = Self.emptyGraph(storage)
    }

    /// With storage, a document's changes that arrive inside a document chunk keep no bytes in
    /// memory: the stored snapshot holds them.
    private static func emptyGraph(_ storage: (any RepoStorage)?) -> ChangeGraph {
        ChangeGraph(retainingDocumentChanges: storage == nil)
    }

    /// True when no peer has the document open and nothing is running or queued. (A pending flush
    /// has nothing to do once no peer is left.)
    var isIdle: Bool { peers.isEmpty && inbox.isEmpty && !draining && active == 0 }

    /// Retires the document if it is idle, in one step on this actor (nothing can arrive between the
    /// check and the retirement), and starts letting go of its memory and of what storage keeps for
    /// it. Returns false, and changes nothing, if it is busy or already retired.
    func retireIfIdle() -> Bool {
        guard !isRetired, isIdle else { return false }
        isRetired = true
        let large = graph.footprint.total >= MemoryRelease.threshold
        graph = Self.emptyGraph(storage)
        loaded = false
        unindexedHeads = nil
        let (storage, id, predecessor) = (storage, id, predecessor)
        self.predecessor = nil
        releasing = Task {
            // Storage hears of the documents one after the other, in the order they held it.
            await predecessor?.released()
            await storage?.release(id)
            if large { MemoryRelease.trim() }
        }
        return true
    }

    /// Returns once a retired document has let go of storage (at once if it is not retired).
    func released() async { await releasing?.value }

    /// Enters an entry point: counts it as running, then takes the lock. False when retired.
    private func enter() async -> Bool {
        guard !isRetired else { return false }
        active += 1
        await lock()
        return true
    }

    private func leave() {
        unlock()
        active -= 1
    }

    /// Takes the document's lock; the first holder first waits for the predecessor to let go of storage.
    private func lock() async {
        if locked {
            await withCheckedContinuation { lockWaiters.append($0) }
        } else {
            locked = true
        }
        if let predecessor {
            self.predecessor = nil
            await predecessor.released()
        }
    }

    /// Lets the lock go, straight to the first waiter if there is one (it stays taken).
    private func unlock() {
        if lockWaiters.isEmpty {
            locked = false
        } else {
            lockWaiters.removeFirst().resume()
        }
    }

    var heads: [ChangeHash] { loaded ? graph.heads : unindexedHeads ?? [] }
    var changeCount: Int { graph.count }

    /// A `sync`/`request` waiting its turn, and whom to tell once it is handled.
    struct Inbound: Sendable {
        var message: SyncMessage
        var link: PeerLink
        var isRequest: Bool
        var handled: @Sendable (Result<Void, ReceiveError>) async -> Void
    }

    /// Messages submitted and not yet taken by `drain`, in order.
    private var inbox: [Inbound] = []
    private var draining = false

    /// Queues a message: handled after every message submitted before it, by this document alone,
    /// so a connection's messages to other documents need not wait for this one's durable write.
    /// Returns at once; `handled` is called (off this document's order) when it is done. Returns
    /// false, taking nothing, when the document is retired: the repo gives it to a new one.
    func submit(_ inbound: Inbound) -> Bool {
        guard !isRetired else { return false }
        inbox.append(inbound)
        guard !draining else { return true }
        draining = true
        Task { await self.drain() }
        return true
    }

    private func drain() async {
        while !inbox.isEmpty {
            let next = inbox.removeFirst()
            await lock()
            // Applies it, makes new changes durable, answers the peer (telling it when we do not have
            // the document either) and schedules the fan-out to the document's other peers.
            let outcome = await receiveLocked(next.message, from: next.link, isRequest: next.isRequest)
            unlock()
            // Not awaited: whoever is told may wait for other messages, never for this queue.
            let handled = next.handled
            Task { await handled(outcome) }
        }
        draining = false
    }

    private func receiveLocked(_ message: SyncMessage, from link: PeerLink, isRequest: Bool) async -> Result<Void, ReceiveError> {
        if !loaded, await answerWithoutIndex(message, from: link, isRequest: isRequest) { return .success(()) }
        do {
            try await ensureLoaded()
        } catch {
            return .failure(.storageFailure(error))
        }
        if let storage, !preparedStorage, !message.heads.isEmpty, message.changes.isEmpty, inGraph({ $0.count == 0 && $0.queuedCount == 0 }) {
            // The peer has changes we lack and sends them once it hears our (empty) heads: storage
            // gets ready for them meanwhile, off this document's lock.
            preparedStorage = true
            let id = id
            Task { await storage.prepare(id) }
        }
        var peer = await peerState(for: link)
        if isRequest { peer.wantsDocument = true }
        let headsBefore = inGraph { $0.heads }
        var result: ChangeGraph.SyncReceiveResult
        do {
            result = try graph.receiveSyncMessage(&peer.syncState, message, inflation: inflation)
        } catch {
            return .failure(.invalidSyncMessage(error))
        }
        if !result.applied.isEmpty || result.received != nil {
            let start = ContinuousClock.now
            do {
                defer { metrics.recordWrite(since: start) }
                if let storage {
                    let appliedHashes = result.applied
                    let applied = result.receivedIsExact ? [] : inGraph { $0.chunks(for: appliedHashes) }
                    if let received = result.received, result.receivedIsExact || applied.count < result.applied.count {
                        // As they arrived: each change's bytes are copied once on their way to disk.
                        // (Also when some applied changes keep no bytes in memory: duplicates are harmless.)
                        let heads = inGraph { $0.heads }
                        try await storage.saveReceived(received, isWholeDocument: result.receivedWholeDocument, heads: heads, of: id)
                    } else {
                        try await storage.saveChanges(applied, of: id)
                    }
                    // Durable now: a large change is read back from storage when a peer needs it, not
                    // kept; once the other peers have been sent it, if there are any.
                    if peers.keys.allSatisfy({ $0 == link.peerId }) {
                        graph.releaseLargeChangeBytes(result.applied)
                    } else {
                        releaseAfterFlush.append(contentsOf: result.applied)
                    }
                }
                result.received = nil
            } catch {
                // The changes are not durable: forget them rather than ever acknowledge them.
                graph = Self.emptyGraph(storage)
                loaded = false
                peers[link.peerId] = nil
                return .failure(.storageFailure(error))
            }
            if inGraph({ $0.count > 0 }) { unavailable = false }
        }
        if unavailable && peer.syncState.theirHeads?.isEmpty != false {
            // Nothing stored is readable and the peer has nothing either: say so instead of serving
            // an empty document. (A peer that has the document syncs on, and so restores it.)
            peers[link.peerId] = peer
            await send(.docUnavailable(DocUnavailableMessage(senderId: repoPeerId, targetId: link.peerId, documentId: idString)), to: link)
            return .success(())
        }
        if let reply = await nextMessage(&peer.syncState) {
            await send(.sync(DocumentSyncMessage(senderId: repoPeerId, targetId: link.peerId, documentId: idString, data: reply.encode())), to: link)
        }
        if isRequest && inGraph({ $0.count == 0 && $0.queuedCount == 0 }) {
            await send(.docUnavailable(DocUnavailableMessage(senderId: repoPeerId, targetId: link.peerId, documentId: idString)), to: link)
        }
        // Sync states are an optimisation (a lost one costs one Bloom round): they are written
        // with the debounced flush, not once per message, and at most once per interval.
        let syncStateDue =
            peer.persistedSharedHeads != peer.syncState.sharedHeads && peer.link.persistentStorageId != nil
            && peer.nextPersist.map { ContinuousClock.now >= $0 } != false
        peers[link.peerId] = peer
        // The sender has its answer already: the flush is for the document's other peers (and the
        // sync state), so a document only one peer has open schedules none for new changes.
        if (peers.count > 1 && inGraph({ $0.heads != headsBefore })) || syncStateDue { scheduleFlush() }
        return .success(())
    }

    /// The heads read from the stored files' headers while the index is not loaded.
    private var unindexedHeads: [ChangeHash]?

    /// Serves a V2 peer that has nothing straight from the stored files, without building the
    /// document's index (a cold open then costs a file read, not a rebuild of every change), and the
    /// peer's "now I have it" reply the same way. The reply is what the reference sends (docs/sync-protocol.md §5: our
    /// heads, the whole document) except `have`, which is empty: the Bloom filter needs every hash,
    /// and a peer that has nothing has nothing to filter (an empty `have` asks it for nothing).
    /// Anything else loads the index first. Returns whether it answered.
    private func answerWithoutIndex(_ message: SyncMessage, from link: PeerLink, isRequest: Bool) async -> Bool {
        guard let storage, message.changes.isEmpty, message.trailer != nil else { return false }
        let flags = message.trailer?.flags ?? []
        guard !flags.contains(.syncReset) else { return false }
        if message.heads.isEmpty && message.need.isEmpty {
            let existing = peers[link.peerId].flatMap { $0.link.connectionId == link.connectionId ? $0 : nil }
            if let existing, existing.syncState.haveResponded, unindexedHeads != nil {
                // It has not read the document yet: nothing new to say.
                var peer = existing
                Self.record(message, in: &peer.syncState, sharedHeads: [])
                peers[link.peerId] = peer
                return true
            }
            guard existing == nil, let stored = try? await storage.storedDocumentAndHeads(id) else { return false }
            var peer = await peerState(for: link)
            guard peer.syncState.sharedHeads.isEmpty else { return false }
            if isRequest { peer.wantsDocument = true }
            Self.record(message, in: &peer.syncState, sharedHeads: [])
            guard !peer.syncState.peerReadOnly else { return false }
            peer.syncState.haveResponded = true
            peer.syncState.lastSentHeads = stored.heads
            peer.syncState.inFlight = true
            unindexedHeads = stored.heads
            peers[link.peerId] = peer
            let reply = SyncMessage(
                version: .v2,
                heads: stored.heads,
                need: [],
                have: [],
                changes: [stored.bytes],
                trailer: .current([.supportsSyncReset])
            )
            await send(.sync(DocumentSyncMessage(senderId: repoPeerId, targetId: link.peerId, documentId: idString, data: reply.encode())), to: link)
            return true
        }
        // The peer now has exactly our heads and has heard of nothing newer: the reference says nothing.
        guard let heads = unindexedHeads, message.heads == heads, message.need.isEmpty,
            var peer = peers[link.peerId], peer.link.connectionId == link.connectionId,
            message.have.allSatisfy({ $0.lastSync.sorted() == heads })
        else { return false }
        Self.record(message, in: &peer.syncState, sharedHeads: message.heads)
        peers[link.peerId] = peer
        return true
    }

    /// What `receiveSyncMessage` records from a message without changes whose heads we all know.
    private static func record(_ message: SyncMessage, in state: inout SyncState, sharedHeads: [ChangeHash]) {
        state.inFlight = false
        if let trailer = message.trailer {
            state.theirCapabilities = SyncState.Capabilities(supportsSyncReset: trailer.flags.contains(.supportsSyncReset))
            state.peerReadOnly = trailer.flags.contains(.readOnly)
        }
        state.sharedHeads = sharedHeads
        state.theirHave = message.have
        state.theirHeads = message.heads
        state.theirNeed = message.need
    }

    /// Starts syncing with a peer that did not ask (the announce share policy). A retired document
    /// is not announced: it is no longer loaded.
    func announce(to link: PeerLink) async {
        guard await enter() else { return }
        if (try? await ensureLoaded()) != nil, graph.count > 0 {
            var peer = await peerState(for: link)
            if let message = await nextMessage(&peer.syncState) {
                await send(
                    .sync(DocumentSyncMessage(senderId: repoPeerId, targetId: link.peerId, documentId: idString, data: message.encode())),
                    to: link
                )
            }
            peers[link.peerId] = peer
        }
        leave()
    }

    /// Starts syncing with a peer the repo wants this document from: a `request` when we hold no
    /// changes, a `sync` otherwise. Does nothing if this connection is already syncing it. Returns
    /// false when the document is retired (the repo asks a new one).
    func requestOrSync(with link: PeerLink) async -> Bool {
        guard await enter() else { return false }
        if (try? await ensureLoaded()) != nil, !unavailable, peers[link.peerId]?.link.connectionId != link.connectionId {
            var peer = await peerState(for: link)
            if let message = await nextMessage(&peer.syncState) {
                let sync = DocumentSyncMessage(senderId: repoPeerId, targetId: link.peerId, documentId: idString, data: message.encode())
                await send(graph.count == 0 ? .request(sync) : .sync(sync), to: link)
            }
            peers[link.peerId] = peer
        }
        leave()
        return true
    }

    /// Forgets a peer's connection-scoped state (its persisted shared heads remain).
    func removePeer(_ peerId: String, connection: RepoConnectionID) async {
        guard await enter() else { return }
        var due: [SyncStateWrite] = []
        if peers[peerId]?.link.connectionId == connection {
            // Its sync state is normally written with the next flush: write it now.
            if let write = syncStateWrite(of: peerId, always: true) { due.append(write) }
            peers[peerId] = nil
        }
        leave()
        await write(due)
    }

    /// The next sync message for a peer. A whole-document reply to a V2 peer carries the stored
    /// chunks as they are (snapshot, then incrementals): no replay, no new save. Without storage, or
    /// when it has nothing usable, it carries every change chunk, which every V2 reader also loads.
    private func nextMessage(_ state: inout SyncState) async -> SyncMessage? {
        guard let storage else { return inGraph { $0.generateSyncMessage(&state, storedDocument: nil) } }
        let plan = inGraph { $0.plannedChanges(state) }
        var stored: [UInt8]?
        if plan.wholeDocument {
            do {
                stored = try await storage.storedDocument(id)
            } catch {
                logger.warning("cannot read the stored document; sending its changes", metadata: ["document": "\(idString)", "error": "\(error)"])
            }
        }
        var supplied: [ChangeHash: ChangeChunk] = [:]
        if stored == nil {
            // Changes kept only inside the stored snapshot are rebuilt from it for this message, and let go.
            let missing = inGraph { graph in plan.hashes.filter { !graph.hasBytes(for: $0) } }
            if !missing.isEmpty {
                do {
                    for chunk in try await storage.changes(missing, of: id) { supplied[chunk.hash] = chunk }
                } catch {
                    logger.warning("cannot rebuild stored changes", metadata: ["document": "\(idString)", "error": "\(error)"])
                }
            }
        }
        return inGraph { $0.generateSyncMessage(&state, storedDocument: stored, supplied: supplied) }
    }

    /// Reads the graph in place: a method called on the stored property itself works on a copy of
    /// it (a retain and a release of each of its arrays), several times per message otherwise.
    private func inGraph<R>(_ body: (inout ChangeGraph) -> R) -> R { body(&graph) }

    /// The peers that have this document open (for ephemeral relaying).
    func links() -> [PeerLink] { peers.values.map(\.link) }

    /// Sends whatever each peer needs now; used after changes and (`final`: every sync state written
    /// now) at shutdown.
    func flush(final: Bool = false) async {
        guard await enter() else { return }
        flushScheduled = false
        var due: [SyncStateWrite] = []
        for peerId in peers.keys.sorted() {
            guard loaded, var peer = peers[peerId], !unavailable else { continue }
            if let message = await nextMessage(&peer.syncState) {
                await send(
                    .sync(DocumentSyncMessage(senderId: repoPeerId, targetId: peerId, documentId: idString, data: message.encode())),
                    to: peer.link
                )
            }
            peers[peerId] = peer
            if let write = syncStateWrite(of: peerId, always: final) { due.append(write) }
        }
        if !releaseAfterFlush.isEmpty {
            graph.releaseLargeChangeBytes(releaseAfterFlush)
            releaseAfterFlush = []
        }
        leave()
        // Written after the lock is let go: the document's next change does not wait for them.
        await write(due)
    }

    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        let delay = debounce
        let clock = clock
        Task { [weak self] in
            try? await Self.sleep(on: clock, for: delay)
            await self?.flush()
        }
    }

    private static func sleep<C: Clock<Duration>>(on clock: C, for delay: Duration) async throws {
        try await clock.sleep(for: delay)
    }

    private func ensureLoaded() async throws {
        guard !loaded else { return }
        if let stored = try await storage?.loadDocument(id) {
            graph = stored.graph
            unavailable = stored.isUnavailable
            metrics.unreadableChunksFound(stored.unreadableChunks.count)
            for key in stored.unreadableChunks {
                logger.warning(
                    "skipping an unreadable stored chunk",
                    metadata: ["document": "\(idString)", "file": "\(key.relativePath)"]
                )
            }
            if stored.isUnavailable {
                logger.warning("no stored chunk of the document is readable; answering doc-unavailable", metadata: ["document": "\(idString)"])
            }
        }
        loaded = true
        unindexedHeads = nil
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
        // Its first write waits a random part of an interval too: when many documents open at once
        // (a device back online), their sync states are not all written while their first changes
        // wait for the disk.
        let firstPersist = ContinuousClock.now + syncStateInterval * Double.random(in: 0..<1)
        return PeerState(link: link, syncState: state, persistedSharedHeads: persisted, nextPersist: firstPersist)
    }

    /// A sync state to write once the document's lock is let go.
    private struct SyncStateWrite {
        var peerId: String
        var connectionId: RepoConnectionID
        var storageId: String
        var bytes: [UInt8]
    }

    /// The peer's sync state if its shared heads moved: about once per `syncStateInterval` (as the
    /// reference throttles them), unless `always` (the peer leaves, the server stops). Recorded as
    /// persisted now, so the write runs outside the document's lock (`write(_:)`): a change arriving
    /// meanwhile does not wait for it. A sync state lost, stale or written out of order after a crash
    /// costs one more Bloom round, nothing else; a failed write is retried by the next flush.
    private func syncStateWrite(of peerId: String, always: Bool) -> SyncStateWrite? {
        guard var peer = peers[peerId], let storageId = peer.link.persistentStorageId, storage != nil,
            peer.persistedSharedHeads != peer.syncState.sharedHeads, graph.count > 0
        else { return nil }
        let now = ContinuousClock.now
        if !always, let next = peer.nextPersist, now < next {
            // Still due: the next flush, or the peer's leaving, writes it.
            return nil
        }
        peer.persistedSharedHeads = peer.syncState.sharedHeads
        // Spread over half to one and a half intervals: documents that started together do not
        // all come due at once again.
        peer.nextPersist = now + syncStateInterval * Double.random(in: 0.5...1.5)
        peers[peerId] = peer
        return SyncStateWrite(peerId: peerId, connectionId: peer.link.connectionId, storageId: storageId, bytes: peer.syncState.encode())
    }

    /// Writes sync states taken by `syncStateWrite`, without the document's lock.
    private func write(_ due: [SyncStateWrite]) async {
        guard let storage else { return }
        for write in due {
            let start = ContinuousClock.now
            do {
                defer { metrics.recordWrite(since: start) }
                try await storage.saveSyncState(write.bytes, of: id, peer: write.storageId)
            } catch {
                logger.warning("could not save a sync state", metadata: ["document": "\(id)", "error": "\(error)"])
                // Not persisted after all: the next flush (or the peer's leaving) tries again.
                if peers[write.peerId]?.link.connectionId == write.connectionId {
                    peers[write.peerId]?.persistedSharedHeads = nil
                    peers[write.peerId]?.nextPersist = nil
                }
            }
        }
    }

    private func send(_ message: RepoMessage, to link: PeerLink) async {
        await link.connection.send(message.encoded())
    }
}
