import ATProto
import Foundation
import Logging
import ServiceLifecycle

/// Polls the session file once a second, so `sessions revoke` run from another process drops the
/// session's live connections without a restart (approvals are read on the next connection), and
/// closes connections whose token has expired.
package struct SessionWatcher: Service, CustomStringConvertible {
    let sessions: SessionStore
    let reloader: SessionReloader
    let liveConnections: LiveConnections
    let clock: any AuthClock
    let logger: Logger
    var interval: Duration = .seconds(1)

    /// The service lifecycle logs each service's description: name it, never print its state.
    package var description: String { "SessionWatcher" }

    package func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await dropUnapprovedConnections()
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Closes the live connections of every session that is no longer approved, and every
    /// connection whose token has expired.
    package func dropUnapprovedConnections() async {
        await reloader.reload()
        await liveConnections.closeExpired(now: Date(timeIntervalSince1970: clock.now()))
        for id in await liveConnections.sessionIDs {
            let status = await sessions.session(id)?.status
            guard status != .approved else { continue }
            logger.notice("closing the connections of a session", metadata: ["session": "\(id)", "status": "\(status?.rawValue ?? "deleted")"])
            await liveConnections.closeAll(of: id)
        }
    }
}
