import HummingbirdCore
import Logging
import NIOCore

/// Closes connections that hold a socket without using it. Sits first in every connection's
/// pipeline, before the HTTP decoder, so it also sees connections that never send a byte (the
/// HTTP/1 idle timeout only starts once a first request has been parsed):
/// - the first request's headers (up to the blank line) must arrive within `headerTimeout`;
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

    init(idleTimeout: TimeAmount, headerTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { cancel() }

    func channelInactive(context: ChannelHandlerContext) {
        cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = .now()
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
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ConnectionDeadlineHandler(idleTimeout: idle, headerTimeout: header))
        }.flatMap {
            inner.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}
