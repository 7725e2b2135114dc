import AutomergeRepo
import NIOConcurrencyHelpers
import NIOWebSocket

/// What the socket writer does next, in the order the repo asked for it.
enum OutboundItem: Sendable {
    case message([UInt8])
    case close(WebSocketErrorCode, reason: String?)
}

/// One WebSocket as the repo sees it. `send` and `close` only enqueue, so calls keep their order and
/// the repo never waits on a slow socket; a dedicated writer task drains the queue.
public final class WebSocketRepoConnection: RepoConnection {
    private let outbox: AsyncStream<OutboundItem>.Continuation
    private let closing = NIOLockedValueBox(false)

    init(outbox: AsyncStream<OutboundItem>.Continuation) {
        self.outbox = outbox
    }

    /// Queues one binary message. Dropped once the connection is closing.
    public func send(_ bytes: [UInt8]) async {
        enqueue(.message(bytes))
    }

    /// Sends a normal close frame after every message queued before it.
    public func close() async {
        close(code: .normalClosure, reason: nil)
    }

    /// True once either side started closing; inbound frames after this point are not delivered.
    var isClosing: Bool { closing.withLockedValue { $0 } }

    func enqueue(_ item: OutboundItem) {
        guard !isClosing else { return }
        outbox.yield(item)
    }

    func close(code: WebSocketErrorCode, reason: String?) {
        let alreadyClosing = closing.withLockedValue { value in
            defer { value = true }
            return value
        }
        guard !alreadyClosing else { return }
        outbox.yield(.close(code, reason: reason))
        outbox.finish()
    }

    /// Stops the writer without a close frame: the peer is already gone.
    func finish() {
        closing.withLockedValue { $0 = true }
        outbox.finish()
    }
}
