/// Per-connection memory bounds of the WebSocket transport. Each one caps what a single peer can
/// make the server hold, whatever it sends or fails to read; see the README's "Limits" section.
package struct ConnectionLimits: Sendable, Equatable {
    /// Bytes queued for a peer and not yet written to its socket. A peer that falls this far
    /// behind (typically one that stopped reading) is sent an error naming the limit and closed.
    /// One message is always accepted into an empty queue, so any message up to the maximum
    /// message size can be sent.
    package var maxQueuedOutboundBytes: Int
    /// Bytes received from a peer and waiting for the repo. Past it, the server stops reading the
    /// socket until the repo catches up (TCP back-pressure), so a peer cannot pile up messages
    /// behind a slow one. One message is always accepted into an empty queue.
    package var maxQueuedInboundBytes: Int
    /// WebSocket frames in one message (the first frame and its continuations). Browsers and the
    /// `ws` library send one frame per message; 4,096 leaves room for 16 KiB fragments of a 64 MiB
    /// message, and stops a peer from costing one buffer per one-byte fragment.
    package var maxFramesPerMessage: Int

    package init(
        maxQueuedOutboundBytes: Int = ConnectionLimits.defaultMaxQueuedOutboundBytes,
        maxQueuedInboundBytes: Int = ConnectionLimits.defaultMaxQueuedInboundBytes,
        maxFramesPerMessage: Int = ConnectionLimits.defaultMaxFramesPerMessage
    ) {
        self.maxQueuedOutboundBytes = maxQueuedOutboundBytes
        self.maxQueuedInboundBytes = maxQueuedInboundBytes
        self.maxFramesPerMessage = maxFramesPerMessage
    }

    /// 32 MiB.
    package static let defaultMaxQueuedOutboundBytes = 32 << 20
    /// 8 MiB.
    package static let defaultMaxQueuedInboundBytes = 8 << 20
    package static let defaultMaxFramesPerMessage = 4096

    package static let `default` = ConnectionLimits()

    /// The environment variables that override the defaults.
    static let variables = (
        outbound: "GROUNDMIST_MAX_QUEUED_OUTBOUND_BYTES",
        inbound: "GROUNDMIST_MAX_QUEUED_INBOUND_BYTES",
        frames: "GROUNDMIST_MAX_FRAMES_PER_MESSAGE"
    )

    /// Reads the overrides from `values`; a bad value becomes a problem and keeps the default.
    static func parse(_ values: [String: String], problems: inout [ConfigurationProblem]) -> ConnectionLimits {
        var limits = ConnectionLimits()
        var reader = LimitVariables(values)
        reader.count(variables.outbound, into: &limits.maxQueuedOutboundBytes)
        reader.count(variables.inbound, into: &limits.maxQueuedInboundBytes)
        reader.count(variables.frames, into: &limits.maxFramesPerMessage)
        problems += reader.problems
        return limits
    }
}
