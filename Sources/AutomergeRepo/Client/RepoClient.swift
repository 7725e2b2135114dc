package import AutomergeCore

/// The client side of the protocol, built from the same pieces as the server's repo: a change
/// graph and a sync state per document, the `join` handshake, `request`/`sync` messages. One
/// server connection at a time. Used by tests and load generators, in one of two modes:
///
/// - `.automatic`: joins as soon as it is connected, answers every sync message and pushes local
///   changes, as a real client does.
/// - `.scripted`: does nothing by itself. The test sends messages (`join()`, `send`, `sendRaw`,
///   `sync(_:)`) and reads what arrived (`received()`, `next()`, `collect(until:)`), so it can
///   check the server's every reply, also to malformed input.
package actor RepoClient: RepoEndpoint {
    package enum Mode: Sendable {
        case automatic
        case scripted
    }

    nonisolated package let peerId: String
    nonisolated package let storageId: String?
    nonisolated package let mode: Mode
    /// The versions offered in `join` (nil: the field is left out).
    nonisolated package let protocolVersions: [String]?
    var connection: (any RepoConnection)?
    private var connectionId: RepoConnectionID?
    var serverPeerId: String?
    var documents: [DocumentId: Document] = [:]
    /// Documents the server said it does not have.
    package private(set) var unavailable: Set<DocumentId> = []
    /// `error` messages received.
    package private(set) var errors: [String] = []
    /// Scripted mode: frames received and not yet read, oldest first.
    var inbox: [[UInt8]] = []
    var inboxWaiter: (id: UInt64, continuation: CheckedContinuation<Void, Never>)?
    var nextWaiterId: UInt64 = 0
    /// Scripted mode: messages other than the document's `sync` that arrived during `sync(_:)`.
    package internal(set) var otherMessages: [RepoMessage] = []
    /// True once the connection was closed (by either side).
    package private(set) var wasDisconnected = false

    /// A class, so that looking a document up copies one reference, not the whole graph and sync
    /// state (load generators look them up several times per change). Its graph is read through
    /// `withGraph`, in place: a method called on the stored property itself works on a copy of it.
    final class Document {
        var graph = ChangeGraph()
        var state = SyncState()
        var wanted = false
        /// The document's bytes as loaded (a saved file), sent as they are when the server needs the
        /// whole document, as the JS client sends its `save()`. Dropped at the first local change.
        var saved: [UInt8]?
        /// The id as sent (Base58), spelled out once rather than for every message.
        var idString: String?

        init(wanted: Bool = false) { self.wanted = wanted }

        /// Runs `body` on the graph in place (and on the sync state, for `generateSyncMessage`).
        @discardableResult func withGraph<R>(_ body: (inout ChangeGraph, inout SyncState) throws -> R) rethrows -> R {
            try body(&graph, &state)
        }
    }

    /// Document ids as the server spells them, parsed once (no Base58 check per message received).
    private var parsedIds: [String: DocumentId] = [:]

    /// Tasks waiting for the server to report given heads for a document.
    private var waiters: [DocumentId: [(heads: Set<ChangeHash>, continuation: CheckedContinuation<Void, any Error>)]] = [:]

    /// The connection closed while a task was waiting for the server.
    package struct Disconnected: Error, CustomStringConvertible {
        package var description: String { "the connection to the server closed" }
    }

    /// Scripted mode: nothing arrived in time.
    package struct NoReply: Error, CustomStringConvertible {
        package let peerId: String
        package var description: String { "no message for \(peerId)" }
    }

    package init(peerId: String, storageId: String? = nil, mode: Mode = .automatic, protocolVersions: [String]? = ["1"]) {
        self.peerId = peerId
        self.storageId = storageId
        self.mode = mode
        self.protocolVersions = protocolVersions
    }

    package var isJoined: Bool { serverPeerId != nil }
    /// True while a connection is open.
    package var isConnected: Bool { connection != nil }

    package func heads(of id: DocumentId) -> [ChangeHash] { documents[id]?.withGraph { graph, _ in graph.heads } ?? [] }
    package func changeCount(of id: DocumentId) -> Int { documents[id]?.withGraph { graph, _ in graph.count } ?? 0 }

    /// Adds locally made changes to a document and (automatic mode) tells the server.
    package func apply(_ chunks: [ChangeChunk], to id: DocumentId) async throws {
        // Changed in place (on a failure the graph stays as the add left it).
        let document = documents[id] ?? Document()
        documents[id] = document
        try document.graph.add(chunks)
        document.saved = nil
        await offer(id)
    }

    /// Adds the change `make` builds on our copy of a document, tells the server (automatic mode) and
    /// waits until the server has it: one call into the client per change, and the document's graph
    /// is read in place rather than copied out (load generators make thousands of these a second).
    package func applyAndWait(to id: DocumentId, _ make: @Sendable (ChangeGraph) -> ChangeChunk) async throws {
        let chunk = documents[id]?.withGraph { graph, _ in make(graph) } ?? make(ChangeGraph())
        try await apply([chunk], to: id)
        try await waitUntilServerHas([chunk.hash], in: id)
    }

    /// Makes one change on our copy of a document: `key` in the root map set to `value`, by `actor`.
    package func change(_ id: DocumentId, key: String, value: Int64, actor: ActorId) async throws {
        let graph = documents[id]?.graph ?? ChangeGraph()
        let seq = UInt64(graph.allHashes.compactMap { graph.metadata(for: $0) }.filter { $0.actor == actor }.count + 1)
        let maxOp = graph.allHashes.compactMap { graph.metadata(for: $0)?.maxOp }.max() ?? 0
        let change = Change(
            deps: graph.heads,
            actor: actor,
            seq: seq,
            startOp: maxOp + 1,
            time: 0,
            ops: [Op(object: .root, key: .map(key), action: .put, value: .int(value))]
        )
        try await apply([change.encodeChunk()], to: id)
    }

    /// Opens a saved document (any concatenation of chunks, e.g. an `.automerge` file) as `id` and
    /// offers it to the server; a server that lacks it is sent these bytes unchanged.
    package func open(_ bytes: [UInt8], as id: DocumentId) async throws {
        let document = Document()
        try document.graph.load(bytes)
        document.saved = bytes
        documents[id] = document
        await offer(id)
    }

    /// Asks the server for a document we do not have.
    package func request(_ id: DocumentId) async {
        if documents[id] == nil { documents[id] = Document(wanted: true) }
        await offer(id)
    }

    /// The graph of a document (to build changes on top of it).
    package func graph(of id: DocumentId) -> ChangeGraph { documents[id]?.graph ?? ChangeGraph() }

    // MARK: RepoEndpoint

    package func connect(_ connection: any RepoConnection) async -> RepoConnectionID {
        let id = RepoConnectionID(rawValue: (connectionId?.rawValue ?? 0) + 1)
        self.connection = connection
        connectionId = id
        serverPeerId = nil
        // A new connection starts every document's sync state afresh (shared heads kept).
        for key in documents.keys {
            if let document = documents[key], let state = try? SyncState(decoding: document.state.encode()) {
                document.state = state
            }
        }
        if mode == .automatic { await connection.send(RepoMessage.join(joinMessage).encoded()) }
        return id
    }

    var joinMessage: JoinMessage {
        JoinMessage(
            senderId: peerId,
            peerMetadata: PeerMetadata(storageId: storageId, isEphemeral: storageId == nil),
            supportedProtocolVersions: protocolVersions
        )
    }

    package func receive(_ frame: [UInt8], from id: RepoConnectionID) async {
        guard id == connectionId else { return }
        if mode == .scripted {
            inbox.append(frame)
            inboxWaiter?.continuation.resume()
            inboxWaiter = nil
        }
        guard let message = try? RepoMessage(decoding: frame) else { return }
        switch message {
        case .peer(let peer):
            serverPeerId = peer.senderId
            guard mode == .automatic else { return }
            for documentId in documents.keys.sorted(by: { $0.string < $1.string }) { await offer(documentId) }
        case .sync(let message):
            guard mode == .automatic else { return }
            guard let documentId = parsedId(message.documentId), let decoded = try? SyncMessage.decode(message.data) else { return }
            let document = documents[documentId] ?? Document()
            documents[documentId] = document
            do {
                try document.withGraph { graph, state in try graph.receiveSyncMessage(&state, decoded) }
            } catch {
                errors.append("invalid sync message from the server: \(error)")
                return
            }
            if document.withGraph({ graph, _ in graph.count > 0 }) { unavailable.remove(documentId) }
            resumeWaiters(documentId, serverHeads: decoded.heads)
            await offer(documentId)
        case .docUnavailable(let message):
            if let documentId = try? DocumentId(message.documentId) { unavailable.insert(documentId) }
        case .error(let error):
            errors.append(error.message)
        default:
            break
        }
    }

    private func parsedId(_ string: String) -> DocumentId? {
        if let id = parsedIds[string] { return id }
        guard let id = try? DocumentId(string) else { return nil }
        parsedIds[string] = id
        return id
    }

    package func disconnect(_ id: RepoConnectionID) {
        guard id == connectionId else { return }
        connection = nil
        serverPeerId = nil
        wasDisconnected = true
        // Nobody will answer these any more: fail them instead of leaving them parked.
        for pending in waiters.values { for waiter in pending { waiter.continuation.resume(throwing: Disconnected()) } }
        waiters = [:]
        inboxWaiter?.continuation.resume()
        inboxWaiter = nil
    }

    /// Waits until the server's heads for a document include all of `heads` (the server
    /// advertises heads only once the changes are durable).
    package func waitUntilServerHas(_ heads: [ChangeHash], in id: DocumentId) async throws {
        let serverHeads = documents[id]?.state.theirHeads ?? []
        if Set(serverHeads).isSuperset(of: heads) || covered(heads, by: serverHeads, in: id) {
            return
        }
        guard connection != nil else { throw Disconnected() }
        try await withCheckedThrowingContinuation { continuation in waiters[id, default: []].append((Set(heads), continuation)) }
    }

    private func covered(_ heads: [ChangeHash], by serverHeads: [ChangeHash], in id: DocumentId) -> Bool {
        guard let document = documents[id], !serverHeads.isEmpty else { return false }
        return document.withGraph { graph, _ in
            // A head of ours has no descendant we know of, so it is below the server's heads only if it
            // is one of them: no walk over the history (the common wait, for a change just made).
            let ours = graph.heads
            if heads.allSatisfy({ ours.contains($0) }) { return Set(serverHeads).isSuperset(of: heads) }
            let known = graph.ancestors(of: serverHeads)
            return heads.allSatisfy { known.contains($0) }
        }
    }

    private func resumeWaiters(_ id: DocumentId, serverHeads: [ChangeHash]) {
        guard var pending = waiters[id], !pending.isEmpty else { return }
        let direct = Set(serverHeads)
        // Every ancestor is looked up only when a waiter's heads are not among the server's own.
        var known: Set<ChangeHash>?
        let document = documents[id]
        let ours = Set(document?.withGraph { graph, _ in graph.heads } ?? [])
        pending.removeAll { waiter in
            if !waiter.heads.isSubset(of: direct) {
                // Our own heads are below the server's only if they are among them (see `covered`).
                if waiter.heads.isSubset(of: ours) { return false }
                if known == nil { known = document?.withGraph { graph, _ in graph.ancestors(of: serverHeads) } ?? [] }
                guard waiter.heads.isSubset(of: known ?? []) else { return false }
            }
            waiter.continuation.resume()
            return true
        }
        waiters[id] = pending.isEmpty ? nil : pending
    }

    /// Closes the connection to the server.
    package func close() async { await connection?.close() }

    /// Automatic mode: sends what the server needs to hear about a document, if anything.
    private func offer(_ id: DocumentId) async {
        guard mode == .automatic, let connection, let serverPeerId, let document = documents[id] else { return }
        let saved = document.saved
        let (message, isEmpty) = document.withGraph { graph, state in (graph.generateSyncMessage(&state, storedDocument: saved), graph.count == 0) }
        // `request` is for a document we lack and have not yet heard about from this peer.
        let isRequest = document.wanted && isEmpty && document.state.sharedHeads.isEmpty
        guard let message else { return }
        let idString = document.idString ?? id.string
        document.idString = idString
        let payload = DocumentSyncMessage(senderId: peerId, targetId: serverPeerId, documentId: idString, data: message.encode())
        await connection.send((isRequest ? RepoMessage.request(payload) : RepoMessage.sync(payload)).encoded())
    }
}
