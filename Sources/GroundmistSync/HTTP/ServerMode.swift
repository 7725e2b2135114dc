package import AutomergeRepo
import Hummingbird
package import Logging
import ServiceLifecycle

/// How the server runs: who may connect, and what it serves and runs besides the WebSocket. Built
/// by `development(…)` or `authenticated(…)`; the server itself never asks which.
package struct ServerMode: Sendable {
    /// Decides every WebSocket upgrade.
    package let authorizer: any ConnectionAuthorizer
    /// Adds the mode's middleware and routes, before the server's own (`/`, `/healthz`, `/metrics`).
    let extendRouter: @Sendable (Router<GroundmistRequestContext>) -> Void
    /// Run beside the HTTP server.
    let services: [any Service]
    /// Logged as warnings when the server starts.
    let startupWarnings: [String]
    /// Refuses a configuration this mode must not run with.
    let checkConfiguration: @Sendable (ServerConfiguration) throws(GroundmistServerError) -> Void

    init(
        authorizer: any ConnectionAuthorizer,
        extendRouter: @escaping @Sendable (Router<GroundmistRequestContext>) -> Void = { _ in },
        services: [any Service] = [],
        startupWarnings: [String] = [],
        checkConfiguration: @escaping @Sendable (ServerConfiguration) throws(GroundmistServerError) -> Void = { _ in }
    ) {
        self.authorizer = authorizer
        self.extendRouter = extendRouter
        self.services = services
        self.startupWarnings = startupWarnings
        self.checkConfiguration = checkConfiguration
    }

    /// Development: no authentication, every connection reaches `endpoint`, loopback only.
    package static func development(endpoint: any RepoEndpoint, hardening: HardeningConfiguration, logger: Logger) -> ServerMode {
        ServerMode(
            authorizer: DevelopmentAuthorizer(endpoint: endpoint, hardening: hardening, logger: logger),
            startupWarnings: [GroundmistServer.developmentModeBanner],
            checkConfiguration: { configuration throws(GroundmistServerError) in try DevelopmentAuthorizer.checkListening(configuration) }
        )
    }

    /// Authenticated: logins at `/authenticate` with CORS, a sync token for every WebSocket, which
    /// reaches its group's repo only; revocations are watched. Binding beyond loopback is allowed.
    package static func authenticated(_ authority: SyncAuthority) -> ServerMode {
        var warnings: [String] = []
        if authority.configuration.dpopLogin == .trust {
            warnings.append(
                "GROUNDMIST_LEGACY_AUTH=trust: DPoP logins from the apps are approved without verification; anyone who can forge a token with your DID gets in"
            )
        }
        return ServerMode(
            authorizer: authority.connections,
            extendRouter: { router in
                router.add(middleware: CORSMiddleware(configuration: authority.configuration))
                AuthenticateRoutes(logins: authority.logins, configuration: authority.configuration).register(on: router)
            },
            services: [authority.watcher],
            startupWarnings: warnings
        )
    }
}
