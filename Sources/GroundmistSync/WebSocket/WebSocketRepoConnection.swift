import AutomergeRepo
import NIOConcurrencyHelpers
import NIOWebSocket

/// What the socket writer does next, in the order the repo asked for it.
enum OutboundItem: Sendable {
    case message([UInt8])
    /// The error that tells a peer which limit closed it: written even when queued messages are dropped.
    case finalMessage([UInt8])
    case close(WebSocketErrorCode, reason: String?)
}

/// Why a connection was closed by its own bounds rather than by the protocol.
enum ConnectionLimitViolation: Sendable, Equatable {
    /// The peer fell `limit` bytes behind on what we send.
    case outboundQueueFull(limit: Int)
    /// We were about to send a message larger than the peer accepts.
    case outgoingMessageTooLarge(size: Int, limit: Int)

    /// The text of the automerge-repo `error` sent before closing; it names the limit so an
    /// operator reading a client log knows which setting to raise.
    var message: String {
        switch self {
        case .outboundQueueFull(let limit):
            return "outbound queue limit exceeded: more than \(limit) bytes waiting for this peer to read "
                + "(\(ConnectionLimits.variables.outbound))"
        case .outgoingMessageTooLarge(let size, let limit):
            return "outgoing message of \(size) bytes exceeds the maximum message size of \(limit) bytes"
        }
    }

    /// The close frame's reason (at most 123 bytes).
    var closeReason: String {
        switch self {
        case .outboundQueueFull: return "outbound queue limit exceeded"
        case .outgoingMessageTooLarge: return "message too large to send"
        }
    }
}

/// One WebSocket as the repo sees it. `send` and `close` only enqueue, so calls keep their order and
/// the repo never waits on a slow socket; a dedicated writer task drains the queue. The queue is
/// bounded in bytes (`ConnectionLimits.maxQueuedOutboundBytes`): a peer that stops reading is closed
/// instead of growing it.
package final class WebSocketRepoConnection: RepoConnection {
    private struct State {
        var closing = false
        /// Queued and not yet written.
        var queuedBytes = 0
        /// Set when a limit closed the connection: queued messages are dropped, not written.
        var violation: ConnectionLimitViolation?
    }

    private let outbox: AsyncStream<OutboundItem>.Continuation
    private let state = NIOLockedValueBox(State())
    private let maxQueuedBytes: Int
    private let maxMessageSize: Int
    private let onViolation: @Sendable (ConnectionLimitViolation) -> Void

    /// - Parameter onViolation: called once when a limit closes the connection (logging, and a
    ///   deadline for a peer that will never read the close frame).
    init(
        outbox: AsyncStream<OutboundItem>.Continuation,
        maxQueuedBytes: Int = ConnectionLimits.defaultMaxQueuedOutboundBytes,
        maxMessageSize: Int = ServerConfiguration.defaultMaxMessageSize,
        onViolation: @escaping @Sendable (ConnectionLimitViolation) -> Void = { _ in }
    ) {
        self.outbox = outbox
        self.maxQueuedBytes = maxQueuedBytes
        self.maxMessageSize = maxMessageSize
        self.onViolation = onViolation
    }

    /// Queues one binary message. Dropped once the connection is closing.
    package func send(_ bytes: [UInt8]) async {
        enqueue(.message(bytes))
    }

    /// Sends a normal close frame after every message queued before it.
    package func close() async {
        close(code: .normalClosure, reason: nil)
    }

    /// True once either side started closing; inbound frames after this point are not delivered.
    var isClosing: Bool { state.withLockedValue { $0.closing } }

    /// Bytes queued and not yet written.
    var queuedBytes: Int { state.withLockedValue { $0.queuedBytes } }

    /// The limit that closed this connection, if one did.
    var violation: ConnectionLimitViolation? { state.withLockedValue { $0.violation } }

    func enqueue(_ item: OutboundItem) {
        guard case .message(let bytes) = item else {
            if !isClosing { outbox.yield(item) }
            return
        }
        let size = bytes.count
        let violation: ConnectionLimitViolation? = state.withLockedValue { state in
            guard !state.closing else { return nil }
            if size > maxMessageSize {
                return .outgoingMessageTooLarge(size: size, limit: maxMessageSize)
            }
            if state.queuedBytes > 0 && state.queuedBytes + size > maxQueuedBytes {
                return .outboundQueueFull(limit: maxQueuedBytes)
            }
            state.queuedBytes += size
            outbox.yield(item)
            return nil
        }
        if let violation { fail(violation) }
    }

    /// The writer took `item` off the queue and is done with it.
    func written(_ item: OutboundItem) {
        guard case .message(let bytes) = item else { return }
        state.withLockedValue { $0.queuedBytes -= bytes.count }
    }

    /// Whether the writer should still write a queued message (not after a limit closed us).
    var shouldWriteQueuedMessages: Bool { state.withLockedValue { $0.violation == nil } }

    /// Closes because of a limit: what is queued is dropped, the peer gets an `error` naming the
    /// limit and a close frame.
    private func fail(_ violation: ConnectionLimitViolation) {
        let first = state.withLockedValue { state -> Bool in
            guard !state.closing else { return false }
            state.closing = true
            state.violation = violation
            return true
        }
        guard first else { return }
        let error = RepoMessage.error(RepoErrorMessage(senderId: nil, message: violation.message, targetId: nil))
        // Bypasses the byte bound: the error is small and is the last message.
        outbox.yield(.finalMessage(error.encoded()))
        outbox.yield(.close(.policyViolation, reason: violation.closeReason))
        outbox.finish()
        onViolation(violation)
    }

    func close(code: WebSocketErrorCode, reason: String?) {
        let alreadyClosing = state.withLockedValue { state in
            defer { state.closing = true }
            return state.closing
        }
        guard !alreadyClosing else { return }
        outbox.yield(.close(code, reason: reason))
        outbox.finish()
    }

    /// Stops the writer without a close frame: the peer is already gone.
    func finish() {
        state.withLockedValue { $0.closing = true }
        outbox.finish()
    }
}
