package import AutomergeCore

/// Scripted mode: the test says what to send and reads every reply.
///
/// The default waits are long: they bound a hang, and a test suite running every suite at once on
/// a 2-core machine can keep a reply's task waiting for a minute. A reply that comes returns at once.
extension RepoClient {
    /// Sends `join` (with this client's storage id and protocol versions) and returns the first reply.
    package func join(within timeout: Duration = .seconds(60)) async throws -> RepoMessage {
        await send(.join(joinMessage))
        return try await next(within: timeout)
    }

    package func send(_ message: RepoMessage) async { await connection?.send(message.encoded()) }
    package func sendRaw(_ bytes: [UInt8]) async { await connection?.send(bytes) }

    /// Every message received and not yet read, oldest first. Over a link that delivers inline
    /// (an in-memory one) this is exactly what the server has said so far: no waiting.
    package func received() throws -> [RepoMessage] {
        let frames = inbox
        inbox.removeAll()
        return try frames.map { try RepoMessage(decoding: $0) }
    }

    /// The next message, waiting for it up to `timeout` (a bound for a failing test, not a pause).
    package func next(within timeout: Duration = .seconds(60)) async throws -> RepoMessage {
        if inbox.isEmpty { await waitForFrame(within: timeout) }
        guard !inbox.isEmpty else { throw NoReply(peerId: peerId) }
        return try RepoMessage(decoding: inbox.removeFirst())
    }

    /// Every message up to and including the first that `last` accepts: waits for what a test
    /// expects instead of for a quiet window, which a loaded machine can stretch.
    package func collect(until last: @Sendable (RepoMessage) -> Bool, within timeout: Duration = .seconds(90)) async throws -> [RepoMessage] {
        let deadline = ContinuousClock.now + timeout
        var messages: [RepoMessage] = []
        while true {
            let message = try await next(within: deadline - ContinuousClock.now)
            messages.append(message)
            if last(message) { return messages }
        }
    }

    /// Messages until none arrives for `quiet`: for a real socket, where a reply's arrival cannot
    /// be awaited otherwise. In-memory tests read `received()` instead.
    package func drain(quiet: Duration = .milliseconds(200)) async -> [RepoMessage] {
        var messages: [RepoMessage] = []
        while let message = try? await next(within: quiet) { messages.append(message) }
        return messages
    }

    /// Returns once a frame is waiting (or the connection closed, or `timeout` passed).
    package func waitForFrame(within timeout: Duration = .seconds(5)) async {
        guard inbox.isEmpty, connection != nil else { return }
        nextWaiterId += 1
        let id = nextWaiterId
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            await self?.expireWaiter(id)
        }
        await withCheckedContinuation { continuation in inboxWaiter = (id, continuation) }
        timer.cancel()
    }

    private func expireWaiter(_ id: UInt64) {
        guard let waiter = inboxWaiter, waiter.id == id else { return }
        inboxWaiter = nil
        waiter.continuation.resume()
    }

    /// Runs the sync protocol for one document until neither side has anything to say: sends our
    /// message, applies the server's replies, again. Other messages that arrive meanwhile are kept
    /// in `otherMessages`. Over an in-memory link (replies delivered inline) it takes no time.
    package func sync(_ id: DocumentId, asRequest: Bool = false, rounds: Int = 20) async throws {
        var first = true
        for _ in 0..<rounds {
            var sentSomething = false
            let document = documents[id] ?? Document()
            if let message = document.withGraph({ graph, state in graph.generateSyncMessage(&state) }) {
                documents[id] = document
                let payload = DocumentSyncMessage(senderId: peerId, targetId: serverPeerId ?? "server", documentId: id.string, data: message.encode())
                await send(first && asRequest ? .request(payload) : .sync(payload))
                sentSomething = true
                first = false
            }
            var receivedSomething = false
            for message in try received() {
                if case .sync(let sync) = message, sync.documentId == id.string {
                    let document = documents[id] ?? Document()
                    let decoded = try SyncMessage.decode(sync.data)
                    try document.withGraph { graph, state in try graph.receiveSyncMessage(&state, decoded) }
                    documents[id] = document
                    receivedSomething = true
                } else {
                    otherMessages.append(message)
                }
            }
            if !sentSomething && !receivedSomething { break }
        }
    }
}

extension RepoClient {
    /// Replaces our copy of a document (a graph built elsewhere, and optionally the sync state that
    /// goes with it); the sync state is kept when none is given.
    package func setDocument(_ id: DocumentId, graph: ChangeGraph, syncState: SyncState? = nil) {
        let document = documents[id] ?? Document()
        document.graph = graph
        document.saved = nil
        if let syncState { document.state = syncState }
        documents[id] = document
    }
}
