import AutomergeRepo
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle

/// Why the server refused to start.
public enum GroundmistServerError: Error, Sendable, Equatable, CustomStringConvertible {
    case nonLoopbackWithoutAuthentication(host: String)
    case invalidMaxMessageSize(Int)

    public var description: String {
        switch self {
        case .nonLoopbackWithoutAuthentication(let host):
            return
                "refusing to listen on \(host): this build has no authentication, so it only listens on loopback "
                + "(127.0.0.1, ::1 or localhost). Set HOST=127.0.0.1 and put an authenticating reverse proxy in front."
        case .invalidMaxMessageSize(let size):
            return "the maximum message size must be between 1 byte and 4 GiB (got \(size))"
        }
    }
}

/// The Groundmist HTTP + WebSocket server around a repo. The repo is reached only through
/// `RepoEndpoint`, so the transport can be tested with any endpoint.
public struct GroundmistServer: Sendable {
    public static let developmentModeBanner = "development mode: no authentication, loopback only"
    public static let rootText = "Groundmist personal sync server is running"

    public let configuration: ServerConfiguration
    public let endpoint: any RepoEndpoint
    public let logger: Logger
    public let metrics: GroundmistMetrics
    private let onShutdown: @Sendable () async -> Void

    /// - Parameter onShutdown: runs once on graceful shutdown (SIGINT/SIGTERM or cancellation), after
    ///   the HTTP server has stopped and every WebSocket has been closed; the repo flushes here.
    /// - Parameter metrics: the registry `GET /metrics` serves; give the repo `metrics.repo` too.
    /// - Throws: when the configuration would expose the unauthenticated server beyond loopback.
    public init(
        configuration: ServerConfiguration,
        endpoint: any RepoEndpoint,
        logger: Logger = Logger(label: "groundmist-sync"),
        metrics: GroundmistMetrics = GroundmistMetrics(),
        onShutdown: @escaping @Sendable () async -> Void = {}
    ) throws(GroundmistServerError) {
        guard configuration.allowUnauthenticatedNonLoopback || LoopbackAddress.isLoopback(configuration.host) else {
            throw .nonLoopbackWithoutAuthentication(host: configuration.host)
        }
        // NIO's frame decoder takes sizes up to UInt32.max.
        guard configuration.maxMessageSize > 0, configuration.maxMessageSize <= Int(UInt32.max) else {
            throw .invalidMaxMessageSize(configuration.maxMessageSize)
        }
        self.configuration = configuration
        self.endpoint = endpoint
        self.logger = logger
        self.metrics = metrics
        self.onShutdown = onShutdown
    }

    /// Builds the application without running it.
    /// - Parameter onServerRunning: receives the bound port (useful with port 0).
    public func makeApplication(
        onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let configuration = configuration
        let endpoint = endpoint
        let logger = logger
        let metrics = metrics
        let webSocket = WebSocketServerConfiguration(
            maxFrameSize: configuration.maxMessageSize,
            autoPing: .enabled(timePeriod: configuration.pingInterval),
            closeTimeout: Self.closeTimeout
        )
        let hostForLog = configuration.host
        return Application(
            router: Self.makeRouter(metrics: metrics),
            server: .http1WebSocketUpgrade(configuration: .init(ws: webSocket)) { _, channel, _ in
                // Any path upgrades, as in the original server; clients normally use "/".
                .upgrade([:]) { inbound, outbound, _ in
                    try await RepoWebSocketBridge.run(
                        inbound: inbound,
                        outbound: outbound,
                        endpoint: endpoint,
                        maxMessageSize: configuration.maxMessageSize,
                        closeTimeout: Self.closeTimeout,
                        logger: logger,
                        metrics: metrics,
                        forceClose: { channel.close(promise: nil) }
                    )
                }
            },
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            services: [ShutdownHookService(hook: onShutdown, logger: logger)],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.notice("listening", metadata: ["host": "\(hostForLog)", "port": "\(port)"])
                await onServerRunning(port)
            },
            logger: logger
        )
    }

    /// Runs until SIGINT or SIGTERM, then shuts down gracefully.
    public func run() async throws {
        logger.warning("\(Self.developmentModeBanner)")
        try await makeApplication().runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    /// How long a peer gets to answer our close frame.
    static let closeTimeout: Duration = .seconds(10)

    static func makeRouter(metrics: GroundmistMetrics) -> Router<BasicRequestContext> {
        let router = Router()
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

/// Waits for graceful shutdown, then runs the hook. Registered before the HTTP server, so the
/// service group shuts it down last: the hook sees no more traffic.
struct ShutdownHookService: Service {
    let hook: @Sendable () async -> Void
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.info("shutting down: flushing")
        await hook()
    }
}
