import Logging
import Synchronization

/// Collects log records in memory, so tests can check what the server logged (and how often).
final class LogCapture: Sendable {
    struct Record: Sendable {
        let level: Logger.Level
        let message: String
    }

    private let records = Mutex<[Record]>([])

    var all: [Record] { records.withLock { $0 } }

    func append(_ record: Record) { records.withLock { $0.append(record) } }

    /// A logger that writes here (everything from `.trace` up).
    var logger: Logger {
        Logger(label: "groundmist-sync.tests.capture") { _ in CapturingLogHandler(capture: self) }
    }
}

struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        capture.append(.init(level: event.level, message: "\(event.message)"))
    }
}
