import ATProto
package import AutomergeRepo
package import Logging

/// The development mode's authorizer: no authentication, every connection reaches one repo. Only
/// web pages of local apps may connect (`GROUNDMIST_DEV_ORIGINS`), and the server listens on
/// loopback only (`checkListening`).
package struct DevelopmentAuthorizer: ConnectionAuthorizer {
    package let endpoint: any RepoEndpoint
    let hardening: HardeningConfiguration
    let logger: Logger

    package init(endpoint: any RepoEndpoint, hardening: HardeningConfiguration, logger: Logger) {
        self.endpoint = endpoint
        self.hardening = hardening
        self.logger = logger
    }

    package func authorize(_ request: UpgradeRequest) async -> UpgradeDecision {
        guard hardening.allowsDevelopmentUpgrade(origins: request.origins) else {
            logger.notice(
                "WebSocket refused: origin not allowed in development mode (set GROUNDMIST_DEV_ORIGINS to allow it)",
                metadata: ["origin": "\(LogSafe(request.origins.joined(separator: ", ")))"]
            )
            return .refuse(.forbiddenOrigin)
        }
        return .accept(AcceptedConnection(endpoint: endpoint))
    }

    /// Without authentication the server may listen beyond loopback only when explicitly allowed.
    static func checkListening(_ configuration: ServerConfiguration) throws(GroundmistServerError) {
        guard configuration.allowUnauthenticatedNonLoopback || LoopbackAddress.isLoopback(configuration.host) else {
            throw .nonLoopbackWithoutAuthentication(host: configuration.host)
        }
    }
}
