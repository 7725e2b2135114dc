import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Closes connections that hold a socket without using it. Sits first in every connection's
/// pipeline, before the HTTP decoder, so it also sees connections that never send a byte (the
/// HTTP/1 idle timeout only starts once a first request has been parsed):
/// - the first request's headers (up to the blank line) must arrive within `headerTimeout`, and
///   so must every later request's on a kept-alive connection, counted from its first byte
///   (`RequestHeaderDeadlineHandler` tells this handler where requests start and end);
/// - a connection that receives nothing for `idleTimeout` is closed (WebSocket peers answer the
///   server's pings, so a live socket is never that quiet).
final class ConnectionDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let idleTimeout: TimeAmount
    private let headerTimeout: TimeAmount
    private var headerDeadline: Scheduled<Void>?
    private var idleCheck: Scheduled<Void>?
    private var lastRead: NIODeadline = .now()
    /// The last three bytes seen while looking for the end of the first request's headers.
    private var tail: [UInt8] = []
    private var headersComplete = false
    /// A response ended on a kept-alive connection: the next byte starts the next request.
    private var awaitingNextRequest = false
    private var context: ChannelHandlerContext?

    init(idleTimeout: TimeAmount, headerTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancel()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = .now()
        if awaitingNextRequest {
            awaitingNextRequest = false
            armHeaderDeadline(context: context)
        }
        if !headersComplete {
            let buffer = unwrapInboundIn(data)
            scanForEndOfHeaders(buffer.readableBytesView)
            if headersComplete {
                headerDeadline?.cancel()
                headerDeadline = nil
            }
        }
        context.fireChannelRead(data)
    }

    private func scanForEndOfHeaders(_ bytes: ByteBufferView) {
        for byte in bytes {
            tail.append(byte)
            if tail.count > 4 { tail.removeFirst() }
            if tail == [13, 10, 13, 10] || tail.suffix(2) == [10, 10] {
                headersComplete = true
                return
            }
        }
    }

    /// A response was sent in full; a later request's headers get `headerTimeout` from its first byte.
    func expectNextRequest() {
        guard headersComplete else { return }
        awaitingNextRequest = true
    }

    /// A request's head was parsed.
    func requestHeadReceived() {
        awaitingNextRequest = false
        headerDeadline?.cancel()
        headerDeadline = nil
    }

    private func armHeaderDeadline(context: ChannelHandlerContext) {
        headerDeadline?.cancel()
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        headerDeadline = context.eventLoop.scheduleTask(in: headerTimeout) { bound.value.close(promise: nil) }
    }

    private func start(context: ChannelHandlerContext) {
        guard headerDeadline == nil, idleCheck == nil else { return }
        lastRead = .now()
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        headerDeadline = context.eventLoop.scheduleTask(in: headerTimeout) {
            bound.value.context.close(promise: nil)
        }
        scheduleIdleCheck(bound, in: idleTimeout)
    }

    private func scheduleIdleCheck(
        _ bound: NIOLoopBound<(handler: ConnectionDeadlineHandler, context: ChannelHandlerContext)>,
        in delay: TimeAmount
    ) {
        idleCheck = bound.value.context.eventLoop.scheduleTask(in: delay) {
            let handler = bound.value.handler
            let quiet = NIODeadline.now() - handler.lastRead
            if quiet >= handler.idleTimeout {
                bound.value.context.close(promise: nil)
            } else {
                handler.scheduleIdleCheck(bound, in: handler.idleTimeout - quiet)
            }
        }
    }

    private func cancel() {
        headerDeadline?.cancel()
        headerDeadline = nil
        idleCheck?.cancel()
        idleCheck = nil
    }
}

/// A server child channel that puts a `ConnectionDeadlineHandler` in front of another one.
struct DeadlineChildChannel<Inner: ServerChildChannel>: ServerChildChannel {
    typealias Value = Inner.Value

    let inner: Inner
    let idleTimeout: Duration
    let headerTimeout: Duration

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let idle = TimeAmount(idleTimeout)
        let header = TimeAmount(headerTimeout)
        // The handler lives on the channel's event loop; `NIOLoopBound` carries it between the futures.
        return channel.eventLoop.makeCompletedFuture { () -> NIOLoopBound<ConnectionDeadlineHandler> in
            let deadlines = ConnectionDeadlineHandler(idleTimeout: idle, headerTimeout: header)
            try channel.pipeline.syncOperations.addHandler(deadlines)
            return NIOLoopBound(deadlines, eventLoop: channel.eventLoop)
        }.flatMap { deadlines in
            inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
                // Right after the HTTP/1 decoder, which `inner` has just added.
                let pipeline = channel.pipeline.syncOperations
                if let decoder = try? pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self) {
                    try pipeline.addHandler(RequestHeaderDeadlineHandler(deadlines: deadlines.value), position: .after(decoder))
                }
                return value
            }
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}
