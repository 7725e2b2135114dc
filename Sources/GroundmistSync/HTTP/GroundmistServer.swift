import AutomergeRepo
package import Hummingbird
import HummingbirdWebSocket
package import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// The Groundmist HTTP + WebSocket server. What differs between the development and the
/// authenticated mode — who may connect, extra routes and services — comes from its `ServerMode`;
/// the repo is reached only through `RepoEndpoint`, so the transport can be tested with any endpoint.
package struct GroundmistServer: Sendable {
    package static let developmentModeBanner = "development mode: no authentication, loopback only"
    package static let rootText = "Groundmist personal sync server is running"

    package let configuration: ServerConfiguration
    package let mode: ServerMode
    package let logger: Logger
    package let metrics: GroundmistMetrics
    private let onShutdown: @Sendable () async -> Void

    /// - Parameter onShutdown: runs once on graceful shutdown (SIGINT/SIGTERM or cancellation), after
    ///   the HTTP server has stopped and every WebSocket has been closed; the repos flush here.
    /// - Parameter metrics: the registry `GET /metrics` serves; give the repos `metrics.repo` too.
    /// - Throws: when the mode refuses the configuration, or the message size is out of range.
    package init(
        configuration: ServerConfiguration,
        mode: ServerMode,
        logger: Logger = Logger(label: "groundmist-sync"),
        metrics: GroundmistMetrics = GroundmistMetrics(),
        onShutdown: @escaping @Sendable () async -> Void = {}
    ) throws(GroundmistServerError) {
        try mode.checkConfiguration(configuration)
        // NIO's frame decoder takes sizes up to UInt32.max.
        guard configuration.maxMessageSize > 0, configuration.maxMessageSize <= Int(UInt32.max) else {
            throw .invalidMaxMessageSize(configuration.maxMessageSize)
        }
        self.configuration = configuration
        self.mode = mode
        self.logger = logger
        self.metrics = metrics
        self.onShutdown = onShutdown
    }

    /// Builds the application without running it.
    /// - Parameter onServerRunning: receives the bound port (useful with port 0).
    package func makeApplication(
        onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let configuration = configuration
        let logger = logger
        let webSocket = WebSocketServerConfiguration(
            maxFrameSize: configuration.maxMessageSize,
            autoPing: .enabled(timePeriod: configuration.pingInterval),
            closeTimeout: Self.closeTimeout
        )
        let upgrades = WebSocketUpgradeHandler(
            authorizer: mode.authorizer,
            configuration: configuration,
            closeTimeout: Self.closeTimeout,
            logger: logger,
            metrics: metrics
        )
        let hostForLog = configuration.host
        return Application(
            router: Self.makeRouter(mode: mode, metrics: metrics),
            server: Self.http1WebSocketUpgrade(configuration, webSocket: webSocket) { request, channel, _ in
                await upgrades.shouldUpgrade(request, channel: channel)
            },
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            services: [ShutdownHookService(hook: onShutdown, logger: logger)] + mode.services,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.notice("listening", metadata: ["host": "\(hostForLog)", "port": "\(port)"])
                await onServerRunning(port)
            },
            // A client that hangs up on a refused upgrade is not an error (UpgradeLogDemotion).
            logger: UpgradeLogDemotion.wrap(logger)
        )
    }

    /// Runs until SIGINT or SIGTERM, then shuts down gracefully.
    package func run() async throws {
        for warning in mode.startupWarnings { logger.warning("\(warning)") }
        try await makeApplication().runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    /// How long a peer gets to answer our close frame.
    static let closeTimeout: Duration = .seconds(10)

    static func makeRouter(mode: ServerMode, metrics: GroundmistMetrics = GroundmistMetrics()) -> Router<GroundmistRequestContext> {
        let router = Router(context: GroundmistRequestContext.self)
        mode.extendRouter(router)
        router.get("/") { _, _ in rootText }
        router.get("/healthz") { _, _ in HealthStatus(status: "ok") }
        addMetricsRoute(to: router, metrics: metrics)
        return router
    }
}

/// `GET /healthz` body.
struct HealthStatus: ResponseEncodable {
    let status: String
}
