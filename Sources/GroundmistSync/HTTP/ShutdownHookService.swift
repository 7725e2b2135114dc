import Logging
import ServiceLifecycle

/// Waits for graceful shutdown, then runs the hook. Registered before the HTTP server, so the
/// service group shuts it down last: the hook sees no more traffic.
struct ShutdownHookService: Service, CustomStringConvertible {
    let hook: @Sendable () async -> Void
    let logger: Logger

    var description: String { "ShutdownHookService" }

    func run() async throws {
        try? await gracefulShutdown()
        logger.info("shutting down: flushing")
        await hook()
    }
}
