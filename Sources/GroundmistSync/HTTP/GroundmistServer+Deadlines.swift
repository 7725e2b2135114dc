import ATProto
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

extension GroundmistServer {
    /// hummingbird-websocket's HTTP/1 + upgrade channel, with the HTTP/1 idle timeout set and a
    /// `ConnectionDeadlineHandler` in front: silent and slow-header connections are closed
    /// instead of being held forever.
    /// The byte-level idle timeout is never below three ping intervals: a live WebSocket peer
    /// answers each ping, so it is never that quiet.
    static func http1WebSocketUpgrade(
        _ server: ServerConfiguration,
        webSocket: WebSocketServerConfiguration,
        shouldUpgrade:
            @escaping @Sendable (HTTPRequest, any Channel, Logger) async throws -> ShouldUpgradeResult<
                WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>
            >
    ) -> HTTPServerBuilder {
        let hardening = server.hardening
        let pingInterval = server.pingInterval
        let configuration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(idleTimeout: TimeAmount(hardening.idleTimeout)),
            ws: webSocket
        )
        return HTTPServerBuilder { responder in
            DeadlineChildChannel(
                inner: HTTP1WebSocketUpgradeChannel(responder: responder, configuration: configuration, shouldUpgrade: shouldUpgrade),
                idleTimeout: max(hardening.idleTimeout, pingInterval * 3),
                headerTimeout: hardening.headerTimeout
            )
        }
    }
}

extension RefusedUpgrade {
    static let originBody = #"{"error":"Forbidden","message":"this origin may not open a WebSocket to the development server"}"#

    /// Answers a development-mode upgrade from a web page that is not a local app with 403.
    static func refuseOrigin(_ origins: [String], on channel: any Channel, logger: Logger) async {
        logger.notice(
            "WebSocket refused: origin not allowed in development mode (set GROUNDMIST_DEV_ORIGINS to allow it)",
            metadata: ["origin": "\(LogSafe(origins.joined(separator: ", ")))"]
        )
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(originBody.utf8.count)")
        headers.add(name: "Connection", value: "close")
        let head = HTTPResponseHead(version: .http1_1, status: .forbidden, headers: headers)
        do {
            channel.write(HTTPServerResponsePart.head(head), promise: nil)
            channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: originBody))), promise: nil)
            try await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
            try await channel.close(mode: .output).get()
        } catch {
            // The client is already gone.
        }
    }
}
