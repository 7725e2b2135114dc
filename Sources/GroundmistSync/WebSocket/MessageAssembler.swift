import HummingbirdWebSocket
import NIOCore

/// Reassembles WebSocket messages from data frames with our own bounds: total bytes and frames
/// per message. Each fragment is copied into one growing buffer and released at once, so a
/// message costs its size, not one buffer object per fragment (hummingbird-websocket keeps every
/// fragment until the last and counts only payload bytes). A message of one frame is that frame's
/// buffer, not a copy.
struct MessageAssembler {
    /// A complete message.
    enum Message: Equatable {
        case binary(ByteBuffer)
        /// Text messages are refused by the protocol layer; only their size is kept.
        case text(bytes: Int)
    }

    /// Why a message was refused; the connection is closed with the matching code.
    enum Violation: Error, Equatable {
        case tooManyFrames(limit: Int)
        case tooLarge(limit: Int)
        /// A continuation frame with no message started, or a new message before the last ended.
        case badFragmentation

        /// The text of the automerge-repo `error` sent before closing.
        var message: String {
            switch self {
            case .tooManyFrames(let limit):
                return "message has more than \(limit) WebSocket frames (\(ConnectionLimits.variables.frames)); send each message as one frame"
            case .tooLarge(let limit):
                return "message exceeds the maximum message size of \(limit) bytes"
            case .badFragmentation:
                return "invalid WebSocket fragmentation"
            }
        }
    }

    let maxMessageSize: Int
    let maxFrames: Int

    private var inProgress: (isText: Bool, bytes: ByteBuffer, textBytes: Int, frames: Int)?

    init(maxMessageSize: Int, maxFrames: Int) {
        self.maxMessageSize = maxMessageSize
        self.maxFrames = max(1, maxFrames)
    }

    /// Takes one data frame; returns the message it completes, if any.
    mutating func append(opcode: WebSocketDataFrame.Opcode, data: ByteBuffer, fin: Bool) throws(Violation) -> Message? {
        switch opcode {
        case .binary, .text:
            guard inProgress == nil else { throw .badFragmentation }
            guard data.readableBytes <= maxMessageSize else { throw .tooLarge(limit: maxMessageSize) }
            if fin {
                return opcode == .binary ? .binary(data) : .text(bytes: data.readableBytes)
            }
            let isText = opcode == .text
            // A copy: the first fragment's buffer may be a slice of a larger read buffer.
            var bytes = ByteBuffer()
            if !isText { bytes.writeImmutableBuffer(data) }
            inProgress = (isText, bytes, isText ? data.readableBytes : 0, 1)
            return nil
        case .continuation:
            guard var message = inProgress else { throw .badFragmentation }
            inProgress = nil
            message.frames += 1
            guard message.frames <= maxFrames else { throw .tooManyFrames(limit: maxFrames) }
            let size = (message.isText ? message.textBytes : message.bytes.readableBytes) + data.readableBytes
            guard size <= maxMessageSize else { throw .tooLarge(limit: maxMessageSize) }
            if message.isText {
                message.textBytes = size
            } else {
                message.bytes.writeImmutableBuffer(data)
            }
            guard fin else {
                inProgress = message
                return nil
            }
            return message.isText ? .text(bytes: message.textBytes) : .binary(message.bytes)
        }
    }
}
