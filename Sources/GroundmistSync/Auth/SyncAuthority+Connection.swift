import ATProto
import AutomergeRepo
import Foundation
import Logging

/// A WebSocket the server agreed to upgrade: its session and the one group repo it may reach.
public struct ConnectionGrant: Sendable {
    public let session: Session
    public let group: NamespacePrefix
    public let repo: Repo
}

extension SyncAuthority {
    /// Decides a WebSocket upgrade from its sync token (`?token=` or `Authorization: Bearer`).
    /// Returns nil to refuse; the reason is logged and counted, never the token.
    public func authorizeConnection(target: String, authorization: [String]) async -> ConnectionGrant? {
        let token = Self.queryParameter("token", in: target) ?? Self.bearerToken(authorization)
        guard let token, !token.isEmpty else { return refuse("token_missing") }
        let claims: SyncTokenClaims
        do {
            claims = try await tokens.verify(token)
        } catch {
            return refuse(error.rawValue)
        }
        // Pick up approvals and revocations made by the CLI a moment ago.
        _ = try? await sessions.reloadIfChanged()
        guard let session = await sessions.session(claims.sid) else { return refuse("session_unknown", session: claims.sid) }
        switch session.status {
        case .pending: return refuse("session_pending", session: session.id)
        case .revoked: return refuse("session_revoked", session: session.id)
        case .approved: break
        }
        guard session.group == claims.group, let group = try? NamespacePrefix(claims.group) else {
            return refuse("wrong_group", session: session.id)
        }
        let repo: Repo
        do {
            repo = try await self.repo(for: group)
        } catch {
            logger.error("cannot open the group repository", metadata: ["group": "\(group)", "error": "\(error)"])
            return nil
        }
        // lastSeen is informational: written at most once a minute per session.
        if session.lastSeen.map({ clock.now() - $0.timeIntervalSince1970 > 60 }) ?? true {
            try? await sessions.touch(session.id)
        }
        logger.info("WebSocket accepted", metadata: ["session": "\(session.id)", "group": "\(group)"])
        return ConnectionGrant(session: session, group: group, repo: repo)
    }

    private func refuse(_ reason: String, session: String? = nil) -> ConnectionGrant? {
        recordFailure(reason)
        var metadata: Logger.Metadata = ["reason": "\(reason)"]
        if let session { metadata["session"] = "\(session)" }
        logger.notice("WebSocket refused", metadata: metadata)
        return nil
    }

    /// Closes the live connections of every session that is no longer approved.
    public func dropUnapprovedConnections() async {
        _ = try? await sessions.reloadIfChanged()
        for id in await liveConnections.sessionIDs {
            let status = await sessions.session(id)?.status
            guard status != .approved else { continue }
            logger.notice("closing the connections of a session", metadata: ["session": "\(id)", "status": "\(status?.rawValue ?? "deleted")"])
            await liveConnections.closeAll(of: id)
        }
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
