import ServiceLifecycle

/// Polls the session file once a second, so `sessions revoke` run from another process drops the
/// session's live connections without a restart (approvals are read on the next connection).
struct SessionWatcher: Service {
    let authority: SyncAuthority
    var interval: Duration = .seconds(1)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await authority.dropUnapprovedConnections()
                try? await Task.sleep(for: interval)
            }
        }
    }
}
