package import AutomergeRepo
package import Logging

/// The two ways to start the server, by mode.
extension GroundmistServer {
    /// The development server: every connection reaches `endpoint`, unauthenticated, loopback only.
    /// - Throws: when the configuration would expose the unauthenticated server beyond loopback.
    package init(
        configuration: ServerConfiguration,
        endpoint: any RepoEndpoint,
        logger: Logger = Logger(label: "groundmist-sync"),
        metrics: GroundmistMetrics = GroundmistMetrics(),
        onShutdown: @escaping @Sendable () async -> Void = {}
    ) throws(GroundmistServerError) {
        try self.init(
            configuration: configuration,
            mode: .development(endpoint: endpoint, hardening: configuration.hardening, logger: logger),
            logger: logger,
            metrics: metrics,
            onShutdown: onShutdown
        )
    }

    /// The authenticated server: binding beyond loopback is allowed.
    package init(
        configuration: ServerConfiguration,
        authority: SyncAuthority,
        logger: Logger = Logger(label: "groundmist-sync"),
        metrics: GroundmistMetrics = GroundmistMetrics(),
        onShutdown: @escaping @Sendable () async -> Void = {}
    ) throws(GroundmistServerError) {
        try self.init(configuration: configuration, mode: .authenticated(authority), logger: logger, metrics: metrics, onShutdown: onShutdown)
    }
}
