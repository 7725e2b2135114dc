import NIOCore

/// One received message as the transport handed it over: an array, or the transport's own buffer
/// (decoded in place, see `RepoMessage.init(decoding:)` for a `ByteBuffer`).
enum InboundFrame: Sendable {
    case array([UInt8])
    case buffer(ByteBuffer)

    var count: Int {
        switch self {
        case .array(let bytes): return bytes.count
        case .buffer(let buffer): return buffer.readableBytes
        }
    }

    /// Decodes the message; the frame is let go once decoded unless a payload still refers to it.
    consuming func decoded() throws(RepoMessageError) -> RepoMessage {
        switch consume self {
        case .array(let bytes): return try RepoMessage(decoding: bytes)
        case .buffer(let buffer): return try RepoMessage(decoding: buffer)
        }
    }
}
