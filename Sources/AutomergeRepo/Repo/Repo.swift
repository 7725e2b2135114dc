package import AutomergeCore
package import Logging
package import NIOCore

/// An automerge-repo peer that serves documents to the peers connected to it: the handshake,
/// one sync session per (document, peer), storage, doc-unavailable answers and ephemeral
/// relaying. Transport-agnostic: transports drive it through `RepoEndpoint`.
package actor Repo: RepoEndpoint {
    package struct Configuration: Sendable {
        /// Our peer id, sent in `peer` replies.
        package var peerId: String
        package var sharePolicy: SharePolicy
        /// How long changes are batched before they are sent to a document's other peers.
        package var syncDebounce: Duration
        /// About the time between two writes of one peer's sync state for one document (each wait
        /// is drawn from half to one and a half of it; none by default: at every debounced flush).
        /// It is also written when the peer leaves.
        package var syncStateInterval: Duration
        /// The server's `syncStateInterval`: a busy document's sync states cost a file each per
        /// interval, not one per debounce.
        package static let serverSyncStateInterval: Duration = .seconds(10)
        /// The clock the debounce sleeps on; tests pass one they advance by hand.
        package var clock: any Clock<Duration>
        /// Ephemeral (sender, session) pairs remembered for de-duplication, and for how long
        /// unseen (`EphemeralSeenTable`).
        package var ephemeralSessions: Int
        package var ephemeralLifetime: Duration
        /// How far the compressed changes in one peer's sync message may inflate, per change and
        /// in all; checked while inflating.
        package var inflation: InflationLimits

        package static let defaultEphemeralSessions = EphemeralSeenTable.defaultCapacity
        package static let defaultEphemeralLifetime = EphemeralSeenTable.defaultLifetime

        package init(
            peerId: String,
            sharePolicy: SharePolicy = .announceLoaded,
            syncDebounce: Duration = .milliseconds(100),
            syncStateInterval: Duration = .zero,
            clock: any Clock<Duration> = ContinuousClock(),
            ephemeralSessions: Int = Configuration.defaultEphemeralSessions,
            ephemeralLifetime: Duration = Configuration.defaultEphemeralLifetime,
            inflation: InflationLimits = .syncMessage
        ) {
            self.peerId = peerId
            self.sharePolicy = sharePolicy
            self.syncDebounce = syncDebounce
            self.syncStateInterval = syncStateInterval
            self.clock = clock
            self.ephemeralSessions = ephemeralSessions
            self.ephemeralLifetime = ephemeralLifetime
            self.inflation = inflation
        }
    }

    package let configuration: Configuration
    private let storage: (any RepoStorage)?
    private let logger: Logger
    private let metrics: RepoMetrics
    private var storageIdentifier: String?

    private var nextConnection: UInt64 = 0
    private var connections: [RepoConnectionID: ConnectionState] = [:]
    private var connectionByPeer: [String: RepoConnectionID] = [:]
    private var documents: [DocumentId: DocumentSynchronizer] = [:]
    /// Highest ephemeral `count` seen per (sender, session); bounded and expiring.
    private var ephemeralSeen: EphemeralSeenTable
    /// Documents every joining peer is asked for (see `requestOnJoin`).
    private var requestedOnJoin: Set<DocumentId> = []

    struct ConnectionState {
        var connection: any RepoConnection
        var peer: PeerLink?
    }

    /// - Parameters:
    ///   - logger: where the repo logs, labelled by its creator (the server passes its own).
    ///   - metrics: where documents-loaded and storage-write figures go, under the creator's names
    ///     (none by default).
    package init(
        configuration: Configuration,
        storage: (any RepoStorage)?,
        logger: Logger = Logger(label: "automerge-repo"),
        metrics: RepoMetrics = .disabled
    ) {
        self.configuration = configuration
        self.storage = storage
        self.logger = logger
        self.metrics = metrics
        ephemeralSeen = EphemeralSeenTable(capacity: configuration.ephemeralSessions, lifetime: configuration.ephemeralLifetime)
    }

    /// The storage id advertised in `peer` replies (nil without storage).
    package func storageId() async throws -> String? {
        if let storageIdentifier { return storageIdentifier }
        guard let storage else { return nil }
        let id = try await storage.storageId()
        storageIdentifier = id
        return id
    }

    // MARK: RepoEndpoint

    package func connect(_ connection: any RepoConnection) -> RepoConnectionID {
        nextConnection += 1
        let id = RepoConnectionID(rawValue: nextConnection)
        connections[id] = ConnectionState(connection: connection)
        return id
    }

    /// Handles the frame completely before returning (its durable write and its answer included).
    package func receive(_ frame: consuming [UInt8], from id: RepoConnectionID) async {
        let (handled, done) = AsyncStream<Never>.makeStream()
        await accept(.array(frame), from: id) { done.finish() }
        for await _ in handled {}
    }

    /// Returns once the frame is accepted in order: a `sync`/`request` is then queued behind its
    /// document's earlier messages and handled meanwhile, so one connection's writes to many
    /// documents share the group-commit rounds instead of waiting for one round each. At most
    /// `maxPipelinedMessages` (or `maxPipelinedBytes`) per connection are in flight; past that this
    /// waits, and so does the transport's reader.
    package func submit(_ frame: consuming [UInt8], from id: RepoConnectionID) async {
        await accept(.array(frame), from: id, whenHandled: nil)
    }

    /// `submit` for a frame in the transport's buffer, decoded in place: a large ephemeral payload
    /// is never copied unless it is relayed.
    package func submit(buffer frame: consuming ByteBuffer, from id: RepoConnectionID) async {
        await accept(.buffer(frame), from: id, whenHandled: nil)
    }

    /// Messages of one connection in flight at once (accepted, not yet handled).
    package static let maxPipelinedMessages = 64
    /// Bytes of sync data of one connection in flight at once (one larger message is still accepted
    /// alone).
    package static let maxPipelinedBytes = 8 << 20

    private func accept(_ frame: consuming InboundFrame, from id: RepoConnectionID, whenHandled: (@Sendable () -> Void)?) async {
        guard let state = connections[id] else {
            whenHandled?()
            return
        }
        // A large message leaves large buffers freed behind it (frame, decoded copy), which glibc
        // keeps: give them back once it is handled, so that a peer sending one after another does
        // not stack their pages up. A queued sync message is trimmed for in `handled`.
        let size = frame.count
        if case .handed = await dispatch(frame, state: state, from: id, whenHandled: whenHandled) { return }
        if size >= MemoryRelease.threshold { MemoryRelease.trim() }
        whenHandled?()
    }

    private enum Dispatch {
        /// Handled already.
        case done
        /// Queued: `whenHandled` is called later.
        case handed
    }

    private func dispatch(
        _ frame: consuming InboundFrame,
        state: ConnectionState,
        from id: RepoConnectionID,
        whenHandled: (@Sendable () -> Void)?
    ) async -> Dispatch {
        let message: RepoMessage
        do {
            // The decoder takes the frame over: its bytes (a large change, or an 8 MiB ephemeral
            // payload) are not held a second time while the message is handled.
            message = try frame.decoded()
        } catch {
            await fail(id, reason: "invalid message: \(error)")
            return .done
        }
        guard let peer = state.peer else {
            guard case .join(let join) = message else {
                await fail(id, reason: "expected a join message")
                return .done
            }
            await handleJoin(join, on: id)
            return .done
        }
        let type = message.type
        switch consume message {
        case .join, .peer:
            await fail(id, reason: "unexpected \(type) message")
        case .sync(let sync):
            // Messages are accepted only from the peer that joined on this connection.
            guard sync.senderId == peer.peerId else { return .done }
            return await handleSync(sync, isRequest: false, from: peer, whenHandled: whenHandled)
        case .request(let sync):
            guard sync.senderId == peer.peerId else { return .done }
            return await handleSync(sync, isRequest: true, from: peer, whenHandled: whenHandled)
        case .ephemeral(let ephemeral):
            guard ephemeral.senderId == peer.peerId || connectionByPeer[ephemeral.senderId] == nil else { return .done }
            await relay(ephemeral, from: peer)
        case .leave:
            await state.connection.close()
            await disconnect(id)
        case .error, .docUnavailable, .remoteSubscriptionChange, .remoteHeadsChanged, .unknown:
            // Tolerated and ignored, as the reference server does.
            break
        }
        return .done
    }

    package func disconnect(_ id: RepoConnectionID) async {
        guard let state = connections.removeValue(forKey: id) else { return }
        guard let peer = state.peer else { return }
        // Its queued messages are handled first, as if they had been handled before it left.
        await waitForPipeline(id) { $0.messages == 0 }
        if connectionByPeer[peer.peerId] == id { connectionByPeer[peer.peerId] = nil }
        for (documentId, document) in documents {
            await document.removePeer(peer.peerId, connection: id)
            await evictIfIdle(documentId)
        }
    }

    // MARK: Handshake

    private func handleJoin(_ join: JoinMessage, on id: RepoConnectionID) async {
        guard join.supportedProtocolVersions == nil || join.supports(version: "1") else {
            await fail(id, reason: "unsupported protocol version", targetId: join.senderId)
            return
        }
        // A re-join with a connected peer id replaces the old connection, which is treated as
        // disconnected first.
        if let previous = connectionByPeer[join.senderId], previous != id, let old = connections[previous] {
            await old.connection.close()
            await disconnect(previous)
        }
        guard var state = connections[id] else { return }
        let link = PeerLink(
            peerId: join.senderId,
            connectionId: id,
            connection: state.connection,
            storageId: join.peerMetadata?.storageId,
            isEphemeral: join.peerMetadata?.isEphemeral ?? true
        )
        state.peer = link
        connections[id] = state
        connectionByPeer[join.senderId] = id
        let ourStorageId = try? await storageId()
        let reply = PeerMessage(
            senderId: configuration.peerId,
            peerMetadata: PeerMetadata(storageId: ourStorageId, isEphemeral: storage == nil),
            targetId: join.senderId
        )
        await state.connection.send(RepoMessage.peer(reply).encoded())
        if configuration.sharePolicy == .announceLoaded {
            for document in documents.values { await document.announce(to: link) }
        }
        for id in requestedOnJoin.sorted(by: { $0.string < $1.string }) {
            while true {
                let document = document(for: id)
                if await document.requestOrSync(with: link) { break }
                forget(retired: document, id)
            }
        }
    }

    /// Asks every peer that joins from now on for this document (a `request` while we lack it, a
    /// `sync` otherwise). Some clients never offer their documents on their
    /// own, so this is how a group's root document reaches the server (docs/repo-protocol.md §4.5).
    package func requestOnJoin(_ id: DocumentId) {
        requestedOnJoin.insert(id)
    }

    // MARK: Documents

    private func handleSync(
        _ message: consuming DocumentSyncMessage,
        isRequest: Bool,
        from peer: PeerLink,
        whenHandled: (@Sendable () -> Void)?
    ) async -> Dispatch {
        let documentId: DocumentId
        if let known = documentIds[message.documentId] {
            documentId = known
        } else {
            do {
                documentId = try DocumentId(message.documentId)
            } catch {
                await fail(peer.connectionId, reason: "invalid document id", targetId: peer.peerId)
                return .done
            }
        }
        let syncMessage: SyncMessage
        do {
            syncMessage = try SyncMessage.decode(message.data)
        } catch {
            await fail(peer.connectionId, reason: "invalid sync message: \(error)", targetId: peer.peerId)
            return .done
        }
        let id = peer.connectionId
        let size = message.data.count
        // The encoded form is not needed while the changes are verified and stored.
        _ = consume message
        await waitForPipeline(id) { $0.messages == 0 || ($0.messages < Self.maxPipelinedMessages && $0.bytes + size <= Self.maxPipelinedBytes) }
        // It may have closed meanwhile (a failed message of its own).
        guard connections[id] != nil else { return .done }
        pipelines[id, default: Pipeline()].messages += 1
        pipelines[id, default: Pipeline()].bytes += size
        let inbound = DocumentSynchronizer.Inbound(message: syncMessage, link: peer, isRequest: isRequest) { outcome in
            await self.handled(outcome, documentId: documentId, peer: peer, size: size)
            whenHandled?()
        }
        while true {
            let document = document(for: documentId)
            if await document.submit(inbound) { break }
            // Retired since it was looked up: the document's next synchronizer takes it.
            forget(retired: document, documentId)
        }
        return .handed
    }

    private func handled(_ outcome: Result<Void, DocumentSynchronizer.ReceiveError>, documentId: DocumentId, peer: PeerLink, size: Int) async {
        let id = peer.connectionId
        if size >= MemoryRelease.threshold { MemoryRelease.trim() }
        if var pipeline = pipelines.removeValue(forKey: id) {
            pipeline.messages -= 1
            pipeline.bytes -= size
            let waiters = pipeline.waiters
            pipeline.waiters = []
            if pipeline.messages > 0 { pipelines[id] = pipeline }
            for waiter in waiters { waiter.resume() }
        }
        guard case .failure(let error) = outcome else { return }
        switch error {
        case .invalidSyncMessage(let reason):
            await fail(id, reason: "invalid sync message: \(reason)", targetId: peer.peerId)
        case .storageFailure(let underlying):
            logger.error("storage failure", metadata: ["document": "\(documentId)", "error": "\(underlying)"])
            await fail(id, reason: "the server could not store the document", targetId: peer.peerId)
        }
    }

    /// A connection's sync messages in flight (accepted, not yet handled).
    private struct Pipeline {
        var messages = 0
        var bytes = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private var pipelines: [RepoConnectionID: Pipeline] = [:]

    /// Waits until the connection's pipeline satisfies `ready` (an empty one always does).
    private func waitForPipeline(_ id: RepoConnectionID, until ready: (Pipeline) -> Bool) async {
        while let pipeline = pipelines[id], !ready(pipeline) {
            await withCheckedContinuation { pipelines[id]?.waiters.append($0) }
        }
    }

    /// The document's synchronizer, made if it is not loaded. A new one follows the retired one
    /// still letting go of the document, if any.
    private func document(for id: DocumentId) -> DocumentSynchronizer {
        if let existing = documents[id] { return existing }
        let document = DocumentSynchronizer(
            id: id,
            repoPeerId: configuration.peerId,
            storage: storage,
            debounce: configuration.syncDebounce,
            syncStateInterval: configuration.syncStateInterval,
            clock: configuration.clock,
            logger: logger,
            metrics: metrics,
            inflation: configuration.inflation,
            predecessor: retiring[id]
        )
        documents[id] = document
        documentIds[id.string] = id
        metrics.documentLoaded()
        return document
    }

    /// The loaded documents by their id's canonical text: a message to one of them is not decoded
    /// from Base58 (and its checksum hashed) again. Other spellings are parsed as usual.
    private var documentIds: [String: DocumentId] = [:]

    /// Retired synchronizers still letting go of their document, by document.
    private var retiring: [DocumentId: DocumentSynchronizer] = [:]

    /// Documents stay in memory only while some peer has them open. The document decides and
    /// retires itself in one step: a message that reached it first keeps it, and one that comes
    /// after finds it retired and goes to a new synchronizer.
    private func evictIfIdle(_ id: DocumentId) async {
        guard let document = documents[id], await document.retireIfIdle() else { return }
        forget(retired: document, id)
        await document.released()
        if retiring[id] === document { retiring[id] = nil }
    }

    /// Takes a retired synchronizer out of the loaded documents (once, whoever notices first).
    private func forget(retired document: DocumentSynchronizer, _ id: DocumentId) {
        guard documents[id] === document else { return }
        documents[id] = nil
        documentIds[id.string] = nil
        retiring[id] = document
        metrics.documentEvicted()
    }

    /// Sessions in the ephemeral de-duplication table (tests and diagnostics).
    package var ephemeralSessionsTracked: Int { ephemeralSeen.count }

    /// The documents currently in memory.
    package var loadedDocuments: [DocumentId] { Array(documents.keys) }

    /// The heads of a loaded document (tests and diagnostics).
    package func heads(of id: DocumentId) async -> [ChangeHash]? {
        guard let document = documents[id] else { return nil }
        return await document.heads
    }

    /// Sends every pending message and (`final`, at shutdown) writes every sync state now; what
    /// the debounced flush does when not `final`.
    package func flush(final: Bool = true) async {
        for document in documents.values { await document.flush(final: final) }
    }

    // MARK: Ephemeral

    /// Relays an ephemeral message unchanged but for `targetId` to the document's other peers,
    /// once per (sender, session, count): echoes come back from clients and must die here.
    private func relay(_ message: EphemeralMessage, from peer: PeerLink) async {
        guard ephemeralSeen.isNew(sender: message.senderId, session: message.sessionId, count: message.count) else { return }
        guard let documentId = try? DocumentId(message.documentId), let document = documents[documentId] else { return }
        for link in await document.links() where link.peerId != peer.peerId && link.peerId != message.senderId {
            var relayed = message
            relayed.targetId = link.peerId
            await link.connection.send(RepoMessage.ephemeral(relayed).encoded())
        }
    }

    // MARK: Errors

    /// Sends an `error` to the peer and closes its connection; the repo keeps serving others.
    private func fail(_ id: RepoConnectionID, reason: String, targetId: String? = nil) async {
        guard let state = connections[id] else { return }
        logger.info("closing a connection", metadata: ["reason": "\(reason)"])
        let error = RepoErrorMessage(senderId: configuration.peerId, message: reason, targetId: targetId ?? state.peer?.peerId)
        await state.connection.send(RepoMessage.error(error).encoded())
        await state.connection.close()
        await disconnect(id)
    }
}
