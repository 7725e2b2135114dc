package import ATProto
package import AutomergeRepo
package import Foundation
import JWTKit
import Logging

/// A WebSocket the server agreed to upgrade: its session and the one group repo it may reach.
package struct ConnectionGrant: Sendable {
    package let session: Session
    package let group: NamespacePrefix
    package let repo: Repo
    /// When the token expires: the session watcher closes the connection then.
    package let expires: Date
}

/// The authenticated mode's authorizer: sync token (`?token=` or `Authorization: Bearer`) →
/// approved session → the token's group repo (docs/auth.md §9). Accepted connections are
/// registered in `LiveConnections`, so revoking their session closes them.
package struct SyncTokenAuthorizer: ConnectionAuthorizer {
    let sessions: SessionStore
    let tokens: SyncTokens
    let groups: GroupRouter
    let liveConnections: LiveConnections
    let reloader: SessionReloader
    let clock: any AuthClock
    let failures: AuthFailureCounter
    let logger: Logger

    package func authorize(_ request: UpgradeRequest) async -> UpgradeDecision {
        guard let grant = await authorize(target: request.target, authorization: request.authorization) else {
            return .refuse(.unauthorized)
        }
        let liveConnections = liveConnections
        return .accept(
            AcceptedConnection(endpoint: grant.repo, logMetadata: ["session": "\(grant.session.id)"]) { close in
                let handle = await liveConnections.add(session: grant.session.id, expires: grant.expires, close: close)
                return { await liveConnections.remove(session: grant.session.id, handle: handle) }
            }
        )
    }

    /// Decides an upgrade from its sync token. Returns nil to refuse; the reason is logged and
    /// counted, never the token.
    package func authorize(target: String, authorization: [String]) async -> ConnectionGrant? {
        let token = Self.queryParameter("token", in: target) ?? Self.bearerToken(authorization)
        guard let token, !token.isEmpty else { return refuse(.tokenMissing) }
        let claims: SyncTokenClaims
        do {
            claims = try await tokens.verify(token)
        } catch {
            return refuse(AuthFailureReason(error))
        }
        // Pick up approvals and revocations made by the CLI a moment ago.
        await reloader.reload()
        guard let session = await sessions.session(claims.sid) else { return refuse(.sessionUnknown, session: claims.sid) }
        switch session.status {
        case .pending: return refuse(.sessionPending, session: session.id)
        case .revoked: return refuse(.sessionRevoked, session: session.id)
        case .approved: break
        }
        guard session.group == claims.group, let group = try? NamespacePrefix(claims.group) else {
            return refuse(.wrongGroup, session: session.id)
        }
        let repo: Repo
        do {
            // A login that waited for approval registers its root document only now.
            if let submitted = session.rootDocUrl {
                if let url = try? AutomergeURL(submitted) { _ = try await groups.roots.register(url, for: group.string) }
                try await sessions.clearRootDocUrl(session.id)
            }
            // A pending session expires within a day; approved, it lives as long as its token.
            if session.expires < claims.exp.value {
                _ = try await sessions.extend(session.id, until: claims.exp.value)
            }
            repo = try await groups.repo(for: group)
        } catch {
            logger.error("cannot open the group repository", metadata: ["group": "\(group)", "error": "\(error)"])
            return nil
        }
        // lastSeen is informational: written at most once a minute per session.
        if session.lastSeen.map({ clock.now() - $0.timeIntervalSince1970 > 60 }) ?? true {
            try? await sessions.touch(session.id)
        }
        logger.info("WebSocket accepted", metadata: ["session": "\(session.id)", "group": "\(group)"])
        return ConnectionGrant(session: session, group: group, repo: repo, expires: claims.exp.value)
    }

    private func refuse(_ reason: AuthFailureReason, session: String? = nil) -> ConnectionGrant? {
        failures.record(reason)
        var metadata: Logger.Metadata = ["reason": "\(reason)"]
        if let session { metadata["session"] = "\(LogSafe(session))" }
        logger.notice("WebSocket refused", metadata: metadata)
        return nil
    }

    static func queryParameter(_ name: String, in target: String) -> String? {
        guard let question = target.firstIndex(of: "?") else { return nil }
        let query = target[target.index(after: question)...].prefix { $0 != "#" }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == name else { continue }
            return String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        return nil
    }

    static func bearerToken(_ authorization: [String]) -> String? {
        guard authorization.count == 1, let header = authorization.first else { return nil }
        let parts = header.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1])
    }
}
