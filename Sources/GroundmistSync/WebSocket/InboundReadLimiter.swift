import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket

/// Stops reading a WebSocket's socket while the bytes it has decoded and the repo has not yet
/// processed exceed the inbound bound (`ConnectionLimits.maxQueuedInboundBytes`).
///
/// It sits right after the frame decoder, so it counts every data frame's payload before anything
/// buffers it: NIO's async channel otherwise reads ahead by up to ten frames whatever their size
/// (ten 8 MiB frames are 80 MiB held for a peer the repo is not keeping up with). The
/// `LargeFrameReader` before the decoder reports the bytes of the frame still being received, so
/// a big frame stops being read part-way instead of being read whole, and hands over the large
/// frames it reads itself. Held-back `read` events are passed on once the repo releases enough;
/// the socket stays unread meanwhile, so TCP pushes back on the peer.
///
/// One message is always let through into an empty queue (a message in progress is read to its
/// end while nothing complete waits), so any message up to the maximum message size gets in.
final class InboundReadLimiter: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// Counts shared with the repo side; mutated only on the event loop.
    private struct Counts {
        /// Payload bytes of complete data messages passed on and not yet released.
        var pending = 0
        /// Payload bytes of the data message still arriving.
        var partial = 0
        /// A `read` was held back.
        var readHeld = false
        /// Limiting is off (the connection is closing and drops what it reads).
        var disabled = false
        /// Bytes of the frame still being received (`LargeFrameReader`).
        var undecoded = 0
    }

    let limit: Int
    private var counts = Counts()
    private var context: ChannelHandlerContext?
    private let eventLoop: any EventLoop

    init(limit: Int, eventLoop: any EventLoop) {
        self.limit = max(1, limit)
        self.eventLoop = eventLoop
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    private var isFull: Bool {
        !counts.disabled && counts.pending > 0 && counts.pending + counts.partial + counts.undecoded >= limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        count(unwrapInboundIn(data))
        context.fireChannelRead(data)
    }

    /// A frame the `LargeFrameReader` read itself, passed on as if the decoder had produced it.
    func receive(_ frame: WebSocketFrame) {
        count(frame)
        context?.fireChannelRead(wrapInboundOut(frame))
    }

    private func count(_ frame: WebSocketFrame) {
        switch frame.opcode {
        case .binary, .text, .continuation:
            if frame.fin {
                counts.pending += counts.partial + frame.length
                counts.partial = 0
            } else {
                counts.partial += frame.length
            }
        default:
            break
        }
    }

    /// The `LargeFrameReader` holds `bytes` of a frame not complete yet.
    func readerHolds(_ bytes: Int) {
        counts.undecoded = bytes
    }

    func read(context: ChannelHandlerContext) {
        if isFull {
            counts.readHeld = true
        } else {
            context.read()
        }
    }

    /// The repo finished with a message of `bytes` payload bytes (on the event loop).
    private func released(_ bytes: Int) {
        // Messages decoded before this handler was added are released too: never below zero.
        counts.pending = max(0, counts.pending - bytes)
        resumeIfRoom()
    }

    private func disable() {
        counts.disabled = true
        resumeIfRoom()
    }

    private func resumeIfRoom() {
        guard counts.readHeld, !isFull, let context else { return }
        counts.readHeld = false
        context.read()
    }

    /// Bytes decoded and not yet released (tests and diagnostics; on the event loop).
    var pendingBytes: Int { counts.pending + counts.partial }

}

extension InboundReadLimiter {
    /// The repo side's handle (on the event loop).
    var handle: Handle { Handle(limiter: NIOLoopBound(self, eventLoop: eventLoop), eventLoop: eventLoop) }

    /// The repo side's handle: callable from any task.
    struct Handle: Sendable {
        fileprivate let limiter: NIOLoopBound<InboundReadLimiter>
        fileprivate let eventLoop: any EventLoop

        /// The repo finished with a message of `bytes` payload bytes (or dropped it).
        func release(_ bytes: Int) {
            let limiter = self.limiter
            eventLoop.execute { limiter.value.released(bytes) }
        }

        /// Stops limiting: the connection is closing and drops whatever it reads.
        func disable() {
            let limiter = self.limiter
            eventLoop.execute { limiter.value.disable() }
        }

        /// Bytes decoded and not yet released.
        func pendingBytes() async throws -> Int {
            let limiter = self.limiter
            return try await eventLoop.submit { limiter.value.pendingBytes }.get()
        }
    }

    /// Adds a limiter right after the WebSocket frame decoder of an upgraded `channel` and a
    /// `LargeFrameReader` right before it, then turns automatic reading back on (the upgrade turned
    /// it off, see `pauseReading(on:)`, so that no frame is decoded past the bound before the
    /// limiter is in place).
    static func install(on channel: any Channel, limit: Int, maxFrameSize: Int) async -> Handle? {
        let handle = try? await channel.eventLoop.submit { () -> Handle? in
            // Reading resumes even if the limiter cannot be added (the gate still bounds messages).
            defer { try? channel.syncOptions?.setOption(ChannelOptions.autoRead, value: true) }
            let pipeline = channel.pipeline.syncOperations
            guard let decoder = try? pipeline.handler(type: ByteToMessageHandler<WebSocketFrameDecoder>.self) else { return nil }
            let limiter = InboundReadLimiter(limit: limit, eventLoop: channel.eventLoop)
            guard (try? pipeline.addHandler(limiter, position: .after(decoder))) != nil,
                (try? pipeline.addHandler(LargeFrameReader(maxFrameSize: maxFrameSize, limiter: limiter), position: .before(decoder))) != nil
            else { return nil }
            return limiter.handle
        }.get()
        return handle ?? nil
    }

    /// Turns automatic reading off before the upgrade, until `install(on:limit:)` has run: frames
    /// that arrive meanwhile stay in the socket.
    static func pauseReading(on channel: any Channel) async {
        try? await channel.setOption(ChannelOptions.autoRead, value: false).get()
    }
}
