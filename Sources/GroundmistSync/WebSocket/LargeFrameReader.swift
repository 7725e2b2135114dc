import NIOCore
import NIOWebSocket

/// Reads large data frames straight from the socket into a buffer allocated once for their size,
/// unmasking as the bytes arrive, and passes everything else on to NIO's frame decoder untouched.
///
/// NIO's decoder accumulates a frame in a buffer that grows by doubling (an 8 MiB frame sits in a
/// 16 MiB buffer whose pages stay resident while the connection reads on), and hands the payload
/// on as a slice of it, still masked, so it is copied once more to be detached and unmasked: two
/// large buffers per frame in flight besides the message itself (issue 14, attack (c)). Here a data
/// frame of `ownBufferSize` bytes or more costs its size once (NIO rounds the capacity up to a
/// power of two, but the pages past the payload are never touched, so they are never resident).
///
/// It sits before NIO's decoder and follows the frame boundaries itself: the bytes of every other
/// frame (small ones, control frames, and any frame NIO's decoder refuses, such as one over the
/// maximum frame size) are forwarded as they arrive, so NIO still decodes and validates them and
/// raises its errors, and the order of frames is kept. A large frame is handed to the
/// `InboundReadLimiter` after the decoder, with no mask, as if the decoder had produced it.
///
/// It must be added before the peer's first frame arrives: RFC 6455 §4.1 has the client wait for
/// the upgrade response, and the server reads nothing until it is in place (see
/// `InboundReadLimiter.pauseReading(on:)`).
final class LargeFrameReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Data frames at least this large are read into a buffer of their own.
    static let ownBufferSize = 1 << 16

    /// The decoded head of one frame (RFC 6455 §5.2).
    struct Header: Equatable {
        var firstByte: UInt8
        var maskKey: WebSocketMaskingKey?
        var length: Int
        /// Bytes of the head on the wire (2 to 14).
        var size: Int

        var isControl: Bool { firstByte & 0x08 != 0 }
    }

    private enum State {
        /// Collecting the next frame's head.
        case head
        /// Forwarding `remaining` more payload bytes of a frame NIO's decoder decodes.
        case forwarding(remaining: Int)
        /// Reading a large frame's payload into its own buffer.
        case reading(Header, payload: ByteBuffer)
        /// NIO's decoder refused a frame (or will): everything is forwarded from now on.
        case passthrough
    }

    let maxFrameSize: Int
    private let limiter: InboundReadLimiter
    private var state = State.head
    /// The bytes of a head not complete yet.
    private var headBytes: ByteBuffer?
    /// Bytes of the current frame received and not yet passed on as a frame (for the limiter).
    private var heldBytes = 0

    init(maxFrameSize: Int, limiter: InboundReadLimiter) {
        self.maxFrameSize = maxFrameSize
        self.limiter = limiter
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = unwrapInboundIn(data)
        if case .passthrough = state {
            context.fireChannelRead(data)
            return
        }
        if headBytes != nil { completeHead(from: &input, context: context) }
        // Bytes for NIO's decoder are passed on in runs: one slice per run of its frames, as the
        // socket delivered them, not one per frame.
        var runStart = input.readerIndex
        func flushRun() {
            if input.readerIndex > runStart {
                // The bytes scanned since `runStart` (shares the read buffer; no copy).
                var run = input
                run.moveWriterIndex(to: input.readerIndex)
                run.moveReaderIndex(to: runStart)
                context.fireChannelRead(wrapInboundOut(run))
            }
            runStart = input.readerIndex
        }
        while input.readableBytes > 0 {
            switch state {
            case .passthrough:
                input.moveReaderIndex(to: input.writerIndex)
            case .forwarding(let remaining):
                let count = min(remaining, input.readableBytes)
                input.moveReaderIndex(forwardBy: count)
                if count == remaining {
                    state = .head
                    heldBytes = 0
                } else {
                    state = .forwarding(remaining: remaining - count)
                    heldBytes += count
                }
            case .reading(let header, var payload):
                state = .head
                readPayload(header, into: &payload, from: &input)
                runStart = input.readerIndex
            case .head:
                guard let header = Self.header(in: input) else {
                    // The rest is the start of a head: kept until the rest of it arrives.
                    flushRun()
                    var kept = context.channel.allocator.buffer(capacity: 14)
                    kept.writeBuffer(&input)
                    headBytes = kept
                    heldBytes = kept.readableBytes
                    runStart = input.readerIndex
                    break
                }
                if isReadHere(header) {
                    flushRun()
                    input.moveReaderIndex(forwardBy: header.size)
                    runStart = input.readerIndex
                    heldBytes = header.size
                    state = .reading(header, payload: context.channel.allocator.buffer(capacity: header.length))
                } else {
                    input.moveReaderIndex(forwardBy: header.size)
                    forward(header)
                }
            }
        }
        flushRun()
        limiter.readerHolds(heldBytes)
    }

    /// Whether the frame is a large data frame this reader reads itself.
    private func isReadHere(_ header: Header) -> Bool {
        !header.isControl && header.firstByte & 0x0F <= 2 && header.length >= Self.ownBufferSize && header.length <= maxFrameSize
    }

    /// Sets the state for a frame whose bytes go to NIO's decoder (its head is on its way).
    private func forward(_ header: Header) {
        if header.length > maxFrameSize || (header.isControl && (header.length > 125 || header.firstByte & 0x80 == 0)) {
            // NIO's decoder refuses it and closes the connection; it sees every byte from here.
            state = .passthrough
            heldBytes = 0
        } else if header.length == 0 {
            state = .head
            heldBytes = 0
        } else {
            state = .forwarding(remaining: header.length)
            heldBytes = header.size
        }
    }

    /// Moves `input`'s bytes into `payload` up to the frame's end; passes the frame on when whole.
    private func readPayload(_ header: Header, into payload: inout ByteBuffer, from input: inout ByteBuffer) {
        let count = min(header.length - payload.readableBytes, input.readableBytes)
        let offset = payload.readableBytes
        // Non-nil: `count` is at most the readable bytes.
        var piece = input.readSlice(length: count) ?? ByteBuffer()
        payload.writeBuffer(&piece)
        if let key = header.maskKey { Self.unmask(&payload, from: offset, key: key) }
        guard payload.readableBytes == header.length else {
            heldBytes += count
            state = .reading(header, payload: payload)
            return
        }
        heldBytes = 0
        limiter.receive(Self.frame(header, payload: payload))
    }

    /// Completes a head that straddled two reads, a byte at a time (at most 14 bytes), and starts its frame.
    private func completeHead(from input: inout ByteBuffer, context: ChannelHandlerContext) {
        guard var head = headBytes else { return }
        var header = Self.header(in: head)
        while header == nil, let byte = input.readInteger(as: UInt8.self) {
            head.writeInteger(byte)
            header = Self.header(in: head)
        }
        guard let header else {
            headBytes = head
            heldBytes = head.readableBytes
            return
        }
        headBytes = nil
        if isReadHere(header) {
            heldBytes = header.size
            state = .reading(header, payload: context.channel.allocator.buffer(capacity: header.length))
        } else {
            forward(header)
            context.fireChannelRead(wrapInboundOut(head))
        }
    }

    /// The frame's head if `buffer` holds all of it (RFC 6455 §5.2).
    static func header(in buffer: ByteBuffer) -> Header? {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self), let second = buffer.getInteger(at: start + 1, as: UInt8.self) else {
            return nil
        }
        var size = 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard let word = buffer.getInteger(at: start + 2, as: UInt16.self) else { return nil }
            length = Int(word)
            size = 4
        } else if length == 127 {
            guard let word = buffer.getInteger(at: start + 2, as: UInt64.self) else { return nil }
            // Anything over Int.max is over every maximum frame size: NIO's decoder refuses it.
            length = word > UInt64(Int.max) ? Int.max : Int(word)
            size = 10
        }
        var key: WebSocketMaskingKey?
        if second & 0x80 != 0 {
            guard let bytes = buffer.getBytes(at: start + size, length: 4) else { return nil }
            key = WebSocketMaskingKey(bytes)
            size += 4
        }
        return Header(firstByte: first, maskKey: key, length: length, size: size)
    }

    static func frame(_ header: Header, payload: ByteBuffer) -> WebSocketFrame {
        let first = header.firstByte
        return WebSocketFrame(
            fin: first & 0x80 != 0,
            rsv1: first & 0x40 != 0,
            rsv2: first & 0x20 != 0,
            rsv3: first & 0x10 != 0,
            // Non-nil: four bits.
            opcode: WebSocketOpcode(encodedWebSocketOpcode: first & 0x0F) ?? .binary,
            maskKey: nil,
            data: payload
        )
    }

    /// Unmasks `buffer`'s readable bytes from `offset` on, which are the payload's bytes from `offset`.
    static func unmask(_ buffer: inout ByteBuffer, from offset: Int, key: WebSocketMaskingKey) {
        let keyBytes = Array(key)
        let pattern = (0..<8).map { keyBytes[($0 + offset) % 4] }
        buffer.withUnsafeMutableReadableBytes { bytes in
            let region = UnsafeMutableRawBufferPointer(rebasing: bytes[offset...])
            var word: UInt64 = 0
            withUnsafeMutableBytes(of: &word) { $0.copyBytes(from: pattern) }
            let words = region.count / 8
            for index in 0..<words {
                let position = index * 8
                let value = region.loadUnaligned(fromByteOffset: position, as: UInt64.self)
                region.storeBytes(of: value ^ word, toByteOffset: position, as: UInt64.self)
            }
            for position in (words * 8)..<region.count {
                region[position] ^= pattern[position % 8]
            }
        }
    }
}
