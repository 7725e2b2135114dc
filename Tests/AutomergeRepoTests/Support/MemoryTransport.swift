import AutomergeCore
import Foundation

@testable import AutomergeRepo

/// A connection whose frames a test reads back.
actor MemoryConnection: RepoConnection {
    private var frames: [[UInt8]] = []
    private(set) var isClosed = false

    func send(_ bytes: [UInt8]) { if !isClosed { frames.append(bytes) } }
    func close() { isClosed = true }

    func popFrame() -> [UInt8]? { frames.isEmpty ? nil : frames.removeFirst() }
}

enum TestClientError: Error {
    case timeout(String)
    case unexpected(String)
}

/// A protocol-level client: joins, then syncs documents with a change graph of its own.
final class TestClient: @unchecked Sendable {
    let repo: Repo
    let peerId: String
    let connection = MemoryConnection()
    private(set) var id = RepoConnectionID(rawValue: 0)
    var documents: [DocumentId: ChangeGraph] = [:]
    var states: [DocumentId: SyncState] = [:]
    /// Non-sync messages received while syncing, in order.
    var otherMessages: [RepoMessage] = []

    init(repo: Repo, peerId: String) {
        self.repo = repo
        self.peerId = peerId
    }

    func open() async { id = await repo.connect(connection) }

    func join(storageId: String? = nil, versions: [String]? = ["1"]) async throws -> RepoMessage {
        await open()
        let join = JoinMessage(
            senderId: peerId,
            peerMetadata: PeerMetadata(storageId: storageId, isEphemeral: storageId == nil),
            supportedProtocolVersions: versions
        )
        await send(.join(join))
        return try await next()
    }

    func send(_ message: RepoMessage) async { await repo.receive(message.encoded(), from: id) }
    func sendRaw(_ bytes: [UInt8]) async { await repo.receive(bytes, from: id) }

    /// The next frame the repo sent us, waiting up to `timeout`.
    func next(timeout: Duration = .seconds(2)) async throws -> RepoMessage {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if let frame = await connection.popFrame() { return try RepoMessage(decoding: frame) }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw TestClientError.timeout("no message for \(peerId)")
    }

    /// Drains frames for `quiet` without a new one.
    func drain(quiet: Duration = .milliseconds(150)) async throws -> [RepoMessage] {
        var messages: [RepoMessage] = []
        while let message = try? await next(timeout: quiet) { messages.append(message) }
        return messages
    }

    /// Makes a change on our copy of a document.
    func change(_ document: DocumentId, key: String, value: Int64, actor: ActorId) throws {
        var graph = documents[document] ?? ChangeGraph()
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
        try graph.add(change.encodeChunk())
        documents[document] = graph
    }

    /// Runs the sync protocol for one document until neither side says anything.
    func sync(_ document: DocumentId, asRequest: Bool = false, rounds: Int = 20) async throws {
        var graph = documents[document] ?? ChangeGraph()
        var state = states[document] ?? SyncState()
        var first = true
        for _ in 0..<rounds {
            var sentSomething = false
            if let message = graph.generateSyncMessage(&state) {
                let payload = DocumentSyncMessage(senderId: peerId, targetId: "server", documentId: document.string, data: message.encode())
                await send(first && asRequest ? .request(payload) : .sync(payload))
                sentSomething = true
                first = false
            }
            var received = false
            for message in try await drain(quiet: .milliseconds(60)) {
                if case .sync(let sync) = message, sync.documentId == document.string {
                    try graph.receiveSyncMessage(&state, try SyncMessage.decode(sync.data))
                    received = true
                } else {
                    otherMessages.append(message)
                }
            }
            if !sentSomething && !received { break }
        }
        documents[document] = graph
        states[document] = state
    }
}
