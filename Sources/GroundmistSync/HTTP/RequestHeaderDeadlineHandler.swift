import NIOCore
import NIOHTTP1

/// Tells the connection's `ConnectionDeadlineHandler` where HTTP/1 requests begin and end, so the
/// header timeout applies to every request on a kept-alive connection, not only the first: a
/// response's end arms it for the next request's first byte, the next request's head disarms it.
/// Sits right after the HTTP/1 decoder; an upgrade request removes it, since the WebSocket that
/// follows is no longer HTTP/1 (the idle timeout still applies).
final class RequestHeaderDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let deadlines: ConnectionDeadlineHandler

    init(deadlines: ConnectionDeadlineHandler) { self.deadlines = deadlines }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        deadlines.requestHeadReceived()
        context.fireChannelRead(data)
        if head.headers.contains(name: "upgrade") {
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let ended: Bool
        if case .end = unwrapOutboundIn(data) { ended = true } else { ended = false }
        context.write(data, promise: promise)
        if ended { deadlines.expectNextRequest() }
    }
}
