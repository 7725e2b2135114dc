import ATProto
import AutomergeRepo
import Foundation
import Logging
import Metrics

/// Everything the authenticated mode needs: who may log in, the sessions and tokens that result,
/// and the group repos connections are routed to.
public struct SyncAuthority: Sendable, CustomStringConvertible, CustomReflectable {
    public let configuration: AuthenticationConfiguration
    public let sessions: SessionStore
    public let tokens: SyncTokens
    public let groups: GroupRepositories
    public let roots: RootDocumentRegistry
    public let liveConnections: LiveConnections
    /// Session-file reload failures already logged.
    let reloadWarnings = DistinctWarnings()
    let serviceAuth: ServiceAuthVerifier
    let compatibility: CompatibilityAuthenticator
    let nonces: DPoPNonces
    /// New pending logins per address and in all (`PendingLoginLimiter`).
    let pendingLimiter: PendingLoginLimiter
    let clock: any AuthClock
    let logger: Logger
    /// Where auth failures are counted; nil uses the bootstrapped `MetricsSystem`.
    let metrics: (any MetricsFactory)?

    /// - Parameters:
    ///   - resolver: resolves the owner's DID document (a caching network resolver in production).
    ///   - clock: one clock for every time check, so tests can pin time.
    ///   - metrics: the factory for `groundmist_auth_failures_total`; nil uses `MetricsSystem`.
    public init(
        configuration: AuthenticationConfiguration,
        dataDirectory: String,
        resolver: any DIDResolver,
        sharePolicy: SharePolicy = .announceLoaded,
        clock: any AuthClock = SystemClock(),
        metrics: (any MetricsFactory)? = nil,
        logger: Logger
    ) async throws {
        self.configuration = configuration
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
        sessions = try SessionStore(dataDirectory: dataDirectory, now: { Date(timeIntervalSince1970: clock.now()) })
        tokens = await SyncTokens(secret: configuration.secretKey, ownerDID: configuration.ownerDID.string, clock: clock)
        groups = GroupRepositories(
            dataDirectory: dataDirectory,
            sharePolicy: sharePolicy,
            logger: logger,
            metrics: metrics.map { RepoMetrics(factory: $0) } ?? RepoMetrics()
        )
        roots = try RootDocumentRegistry(dataDirectory: dataDirectory)
        liveConnections = LiveConnections()
        var serviceConfiguration = ServiceAuthConfiguration(
            ownerDID: configuration.ownerDID,
            serviceDID: try DID(configuration.serviceDID),
            serviceID: AuthenticationConfiguration.serviceID
        )
        // The replay cache is not persisted: refuse tokens minted before this process started.
        serviceConfiguration.notIssuedBefore = clock.now() - 5
        serviceAuth = ServiceAuthVerifier(configuration: serviceConfiguration, resolver: resolver, clock: clock, logger: logger)
        nonces = DPoPNonces(clock: clock)
        pendingLimiter = PendingLoginLimiter(clock: clock)
        let dpop = DPoPVerifier(configuration: DPoPConfiguration(publicURL: configuration.publicURL), nonces: nonces, clock: clock)
        // Opaque `tok-…` tokens carry no claims at all; tolerable only when the owner approves each session.
        compatibility = CompatibilityAuthenticator(
            ownerDID: configuration.ownerDID,
            dpop: dpop,
            clock: clock,
            acceptOpaqueTokens: configuration.legacyAuth == .approve
        )
    }

    /// Short, and without the configuration tree: whatever prints the authority never prints the key.
    public var description: String { "SyncAuthority(owner: \(configuration.ownerDID))" }
    public var customMirror: Mirror { Mirror(self, children: ["owner": configuration.ownerDID.string], displayStyle: .struct) }

    /// The group's repo, asking joining peers for the group's root document if one is registered.
    public func repo(for group: NamespacePrefix) async throws -> Repo {
        let repo = try await groups.repo(for: group)
        if let root = await roots.root(of: group.string) { await repo.requestOnJoin(root.documentId) }
        return repo
    }

    public static let authFailuresMetric = GroundmistMetrics.authFailuresLabel

    /// Counts a refused request by a short reason (metric `groundmist_auth_failures_total`).
    func recordFailure(_ reason: AuthFailureReason) {
        if let metrics {
            Counter(label: Self.authFailuresMetric, dimensions: [("reason", reason.rawValue)], factory: metrics).increment()
        } else {
            Counter(label: Self.authFailuresMetric, dimensions: [("reason", reason.rawValue)]).increment()
        }
    }
}
