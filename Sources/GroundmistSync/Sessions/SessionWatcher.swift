import ServiceLifecycle

/// Polls the session file once a second, so `sessions revoke` run from another process drops the
/// session's live connections without a restart (approvals are read on the next connection).
struct SessionWatcher: Service, CustomStringConvertible {
    let authority: SyncAuthority
    var interval: Duration = .seconds(1)

    /// The service lifecycle logs each service's description: name it, never print the authority.
    var description: String { "SessionWatcher" }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await authority.dropUnapprovedConnections()
                try? await Task.sleep(for: interval)
            }
        }
    }
}
