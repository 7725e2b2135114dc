import Logging

/// Re-reads the session file when another process (the CLI) changed it. A failure (e.g. the file
/// made unreadable by running the CLI as root) is logged as a warning once per distinct error, not
/// on every poll.
struct SessionReloader: Sendable {
    let sessions: SessionStore
    let logger: Logger
    let warnings = DistinctWarnings()

    func reload() async {
        do {
            try await sessions.reloadIfChanged()
            await warnings.succeeded()
        } catch {
            guard await warnings.isNew(error.description) else { return }
            logger.warning(
                "cannot re-read the session file; approvals and revocations made since are not seen",
                metadata: ["error": "\(error.description)"]
            )
        }
    }
}
