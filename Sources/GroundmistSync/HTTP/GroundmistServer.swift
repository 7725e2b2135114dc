import ATProto
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
                "refusing to listen on \(host): development mode (ATPROTO_DID is not set) has no authentication, "
                + "so it only listens on loopback (127.0.0.1, ::1 or localhost). Set ATPROTO_DID and "
                + "GROUNDMIST_SYNC_SECRET_KEY to serve other machines, or set HOST=127.0.0.1."
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

    /// Where WebSocket connections go.
    public enum Mode: Sendable {
        /// Development: every connection reaches one repo, unauthenticated.
        case development(any RepoEndpoint)
        /// Every connection needs a sync token and reaches its token's group repo only.
        case authenticated(SyncAuthority)
    }

    public let configuration: ServerConfiguration
    public let mode: Mode
    public let logger: Logger
    public let metrics: GroundmistMetrics
    private let onShutdown: @Sendable () async -> Void

    /// The development-mode endpoint (nil in authenticated mode).
    public var endpoint: (any RepoEndpoint)? {
        if case .development(let endpoint) = mode { return endpoint }
        return nil
    }

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
        try self.init(configuration: configuration, mode: .development(endpoint), logger: logger, metrics: metrics, onShutdown: onShutdown)
    }

    /// The authenticated server: binding beyond loopback is allowed.
    public init(
        configuration: ServerConfiguration,
        authority: SyncAuthority,
        logger: Logger = Logger(label: "groundmist-sync"),
        metrics: GroundmistMetrics = GroundmistMetrics(),
        onShutdown: @escaping @Sendable () async -> Void = {}
    ) throws(GroundmistServerError) {
        try self.init(configuration: configuration, mode: .authenticated(authority), logger: logger, metrics: metrics, onShutdown: onShutdown)
    }

    init(
        configuration: ServerConfiguration,
        mode: Mode,
        logger: Logger,
        metrics: GroundmistMetrics,
        onShutdown: @escaping @Sendable () async -> Void
    ) throws(GroundmistServerError) {
        if case .development = mode {
            guard configuration.allowUnauthenticatedNonLoopback || LoopbackAddress.isLoopback(configuration.host) else {
                throw .nonLoopbackWithoutAuthentication(host: configuration.host)
            }
        }
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
    public func makeApplication(
        onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let configuration = configuration
        let mode = mode
        let logger = logger
        let metrics = metrics
        let webSocket = WebSocketServerConfiguration(
            maxFrameSize: configuration.maxMessageSize,
            autoPing: .enabled(timePeriod: configuration.pingInterval),
            closeTimeout: Self.closeTimeout
        )
        let hostForLog = configuration.host
        var services: [any Service] = [ShutdownHookService(hook: onShutdown, logger: logger)]
        if case .authenticated(let authority) = mode {
            services.append(SessionWatcher(authority: authority))
        }
        return Application(
            router: Self.makeRouter(mode: mode, metrics: metrics),
            server: Self.http1WebSocketUpgrade(configuration, webSocket: webSocket) { request, channel, _ in
                // Any path upgrades, as in the original server; clients normally use "/".
                let endpoint: any RepoEndpoint
                var grant: ConnectionGrant?
                switch mode {
                case .development(let developmentEndpoint):
                    guard configuration.hardening.allowsDevelopmentUpgrade(origins: request.headerFields[values: .origin]) else {
                        await RefusedUpgrade.refuseOrigin(request.headerFields[values: .origin], on: channel, logger: logger)
                        return .dontUpgrade
                    }
                    endpoint = developmentEndpoint
                case .authenticated(let authority):
                    grant = await authority.authorizeConnection(
                        target: request.path ?? "/",
                        authorization: request.headerFields[values: .authorization]
                    )
                    guard let grant else {
                        await RefusedUpgrade.respond(on: channel)
                        return .dontUpgrade
                    }
                    endpoint = grant.repo
                }
                // No frame is read until the inbound limiter is in place (see InboundReadLimiter).
                await InboundReadLimiter.pauseReading(on: channel)
                return .upgrade([:]) { [grant] inbound, outbound, _ in
                    let readLimiter = await InboundReadLimiter.install(on: channel, limit: configuration.connectionLimits.maxQueuedInboundBytes)
                    var connectionLogger = logger
                    // Registered so that revoking the session closes this connection.
                    var registration: (authority: SyncAuthority, session: String, handle: UInt64)?
                    if case .authenticated(let authority) = mode, let grant {
                        connectionLogger[metadataKey: "session"] = "\(grant.session.id)"
                        let handle = await authority.liveConnections.add(session: grant.session.id, expires: grant.expires) {
                            channel.close(promise: nil)
                        }
                        registration = (authority, grant.session.id, handle)
                    }
                    let result: Result<Void, any Error>
                    do {
                        try await RepoWebSocketBridge.run(
                            inbound: inbound,
                            outbound: outbound,
                            endpoint: endpoint,
                            maxMessageSize: configuration.maxMessageSize,
                            limits: configuration.connectionLimits,
                            readLimiter: readLimiter,
                            closeTimeout: Self.closeTimeout,
                            logger: connectionLogger,
                            metrics: metrics,
                            forceClose: { channel.close(promise: nil) }
                        )
                        result = .success(())
                    } catch {
                        result = .failure(error)
                    }
                    if let registration {
                        await registration.authority.liveConnections.remove(session: registration.session, handle: registration.handle)
                    }
                    try result.get()
                }
            },
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            services: services,
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
    public func run() async throws {
        switch mode {
        case .development:
            logger.warning("\(Self.developmentModeBanner)")
        case .authenticated(let authority):
            if authority.configuration.legacyAuth == .trust {
                logger.warning(
                    "GROUNDMIST_LEGACY_AUTH=trust: DPoP logins from the apps are approved without verification; anyone who can forge a token with your DID gets in"
                )
            }
        }
        try await makeApplication().runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    /// How long a peer gets to answer our close frame.
    static let closeTimeout: Duration = .seconds(10)

    static func makeRouter(
        mode: Mode = .development(UnavailableEndpoint()),
        metrics: GroundmistMetrics = GroundmistMetrics()
    ) -> Router<GroundmistRequestContext> {
        let router = Router(context: GroundmistRequestContext.self)
        if case .authenticated(let authority) = mode {
            router.add(middleware: CORSMiddleware(configuration: authority.configuration))
        }
        router.get("/") { _, _ in rootText }
        router.get("/healthz") { _, _ in HealthStatus(status: "ok") }
        if case .authenticated(let authority) = mode {
            AuthenticateRoutes(authority: authority).register(on: router)
        }
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
struct ShutdownHookService: Service, CustomStringConvertible {
    let hook: @Sendable () async -> Void
    let logger: Logger

    var description: String { "ShutdownHookService" }

    func run() async throws {
        try? await gracefulShutdown()
        logger.info("shutting down: flushing")
        await hook()
    }
}
