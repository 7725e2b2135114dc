package import AutomergeRepo
package import Logging

/// Decides WebSocket upgrades: the seam where the server's modes differ for connections. The
/// development mode (`DevelopmentAuthorizer`) lets local apps reach its one repo; the
/// authenticated mode (`SyncTokenAuthorizer`) goes sync token → session → the group's repo.
package protocol ConnectionAuthorizer: Sendable {
    /// Decides before anything is upgraded; a refusal's reason is logged and counted here, never a token.
    func authorize(_ request: UpgradeRequest) async -> UpgradeDecision
}

/// What an upgrade request offers for its authorisation.
package struct UpgradeRequest: Sendable {
    /// The request target, whose `?token=` may carry the sync token.
    package var target: String
    /// Every `Authorization` header value.
    package var authorization: [String]
    /// Every `Origin` header value.
    package var origins: [String]

    package init(target: String, authorization: [String] = [], origins: [String] = []) {
        self.target = target
        self.authorization = authorization
        self.origins = origins
    }
}

package enum UpgradeDecision: Sendable {
    case accept(AcceptedConnection)
    case refuse(UpgradeRefusal)
}

/// Why an upgrade was refused, as far as the client is told (`RefusedUpgrade` writes the answer).
package enum UpgradeRefusal: Sendable, Equatable {
    /// No valid, approved sync token (401).
    case unauthorized
    /// A web page the development server does not serve (403).
    case forbiddenOrigin
}

/// An upgrade the authorizer agreed to: where the connection's messages go, and how the open
/// connection is tracked.
package struct AcceptedConnection: Sendable {
    package let endpoint: any RepoEndpoint
    /// Added to the connection's log lines (its session, when there is one).
    package let logMetadata: Logger.Metadata
    /// Registers the open connection with what closes it (so that revoking its session or the
    /// expiry of its token ends it) and returns what unregisters it when it ends.
    let register: @Sendable (_ close: @escaping @Sendable () -> Void) async -> @Sendable () async -> Void

    package init(endpoint: any RepoEndpoint, logMetadata: Logger.Metadata = [:]) {
        self.init(endpoint: endpoint, logMetadata: logMetadata) { _ in {} }
    }

    init(
        endpoint: any RepoEndpoint,
        logMetadata: Logger.Metadata,
        register: @escaping @Sendable (_ close: @escaping @Sendable () -> Void) async -> @Sendable () async -> Void
    ) {
        self.endpoint = endpoint
        self.logMetadata = logMetadata
        self.register = register
    }
}
