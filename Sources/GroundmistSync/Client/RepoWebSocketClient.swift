package import AutomergeRepo
import HummingbirdWSClient
package import Logging
import NIOWebSocket

/// How a client connection ended, as told by the server's close frame.
package struct RepoWebSocketClose: Sendable, Equatable {
    /// WebSocket close code (1000 is a normal close).
    package let code: UInt16
    package let reason: String?
}

/// Connects a client-side repo to a sync server over `ws://`: the endpoint gets a `RepoConnection`
/// for the outbound side and every binary message the server sends.
package struct RepoWebSocketClient: Sendable {
    package let url: String
    package let endpoint: any RepoEndpoint
    package let maxMessageSize: Int
    package let logger: Logger

    package init(
        url: String,
        endpoint: any RepoEndpoint,
        maxMessageSize: Int = ServerConfiguration.defaultMaxMessageSize,
        logger: Logger = Logger(label: "groundmist-sync.client")
    ) {
        self.url = url
        self.endpoint = endpoint
        self.maxMessageSize = maxMessageSize
        self.logger = logger
    }

    /// Connects, runs until either side closes, and reports the disconnect to the endpoint.
    /// Returns the server's close frame, if it sent one. Cancel the task to stop early.
    @discardableResult
    package func run() async throws -> RepoWebSocketClose? {
        let endpoint = endpoint
        let maxMessageSize = maxMessageSize
        let logger = logger
        let client = WebSocketClient(
            url: url,
            configuration: .init(maxFrameSize: maxMessageSize),
            logger: logger
        ) { inbound, outbound, _ in
            try await RepoWebSocketBridge.run(
                inbound: inbound,
                outbound: outbound,
                endpoint: endpoint,
                maxMessageSize: maxMessageSize,
                closeTimeout: .seconds(10),
                logger: logger,
                // The server ends the TCP connection after the close handshake.
                forceClose: {}
            )
        }
        guard let frame = try await client.run() else { return nil }
        return RepoWebSocketClose(code: UInt16(webSocketErrorCode: frame.closeCode), reason: frame.reason)
    }
}
