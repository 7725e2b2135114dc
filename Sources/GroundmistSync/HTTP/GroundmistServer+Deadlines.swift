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
