package import ATProto
package import AutomergeRepo
import Foundation
package import Logging
package import Metrics

/// The authenticated mode, assembled: the state it keeps (sessions, tokens, group repos, root
/// documents, open connections) and the services built on it — `logins` answers
/// `POST /authenticate`, `connections` decides WebSocket upgrades and `watcher` closes the
/// connections of revoked sessions and expired tokens.
package struct SyncAuthority: Sendable, CustomStringConvertible, CustomReflectable {
    package let configuration: AuthenticationConfiguration
    package let sessions: SessionStore
    package let tokens: SyncTokens
    package let groups: GroupRepositories
    package let roots: RootDocumentRegistry
    package let liveConnections: LiveConnections
    /// Group → repo, asking joining peers for the group's root document.
    package let groupRouter: GroupRouter
    package let logins: LoginService
    package let connections: SyncTokenAuthorizer
    package let watcher: SessionWatcher

    /// - Parameters:
    ///   - resolver: resolves the owner's DID document (a caching network resolver in production).
    ///   - clock: one clock for every time check, so tests can pin time.
    ///   - metrics: the factory for `groundmist_auth_failures_total` and the repos' metrics; nil uses `MetricsSystem`.
    package init(
        configuration: AuthenticationConfiguration,
        dataDirectory: String,
        resolver: any DIDResolver,
        sharePolicy: SharePolicy = .announceLoaded,
        repoLimits: RepoLimits = .default,
        clock: any AuthClock = SystemClock(),
        metrics: (any MetricsFactory)? = nil,
        logger: Logger
    ) async throws {
        self.configuration = configuration
        sessions = try SessionStore(
            dataDirectory: dataDirectory,
            limits: configuration.loginLimits,
            now: { Date(timeIntervalSince1970: clock.now()) }
        )
        tokens = await SyncTokens(secret: configuration.secretKey, ownerDID: configuration.ownerDID.string, clock: clock)
        groups = GroupRepositories(
            dataDirectory: dataDirectory,
            sharePolicy: sharePolicy,
            limits: repoLimits,
            logger: logger,
            metrics: metrics.map { RepoMetrics(factory: $0) } ?? RepoMetrics()
        )
        roots = try RootDocumentRegistry(dataDirectory: dataDirectory)
        liveConnections = LiveConnections()
        groupRouter = GroupRouter(repositories: groups, roots: roots)
        let failures = AuthFailureCounter(metrics: metrics)
        // One reloader for both users, so a broken session file is warned about once.
        let reloader = SessionReloader(sessions: sessions, logger: logger)
        logins = try LoginService(
            configuration: configuration,
            sessions: sessions,
            tokens: tokens,
            groups: groupRouter,
            resolver: resolver,
            clock: clock,
            failures: failures,
            logger: logger
        )
        connections = SyncTokenAuthorizer(
            sessions: sessions,
            tokens: tokens,
            groups: groupRouter,
            liveConnections: liveConnections,
            reloader: reloader,
            clock: clock,
            failures: failures,
            logger: logger
        )
        watcher = SessionWatcher(sessions: sessions, reloader: reloader, liveConnections: liveConnections, clock: clock, logger: logger)
    }

    /// Short, and without the configuration tree: whatever prints the authority never prints the key.
    package var description: String { "SyncAuthority(owner: \(configuration.ownerDID))" }
    package var customMirror: Mirror { Mirror(self, children: ["owner": configuration.ownerDID.string], displayStyle: .struct) }
}
