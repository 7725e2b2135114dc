package import Logging
import Synchronization

/// Collects log records in memory so a test can check what was logged, how often, and search the
/// rendered text (label, level, message, handler and event metadata, error) the way a stream
/// handler would print it.
package final class LogCapture: Sendable {
    package struct Record: Sendable {
        package let label: String
        package let level: Logger.Level
        package let message: String
        /// Handler metadata merged with the event's (the event's wins).
        package let metadata: Logger.Metadata
        package let error: String?

        package init(label: String, level: Logger.Level, message: String, metadata: Logger.Metadata = [:], error: String? = nil) {
            self.label = label
            self.level = level
            self.message = message
            self.metadata = metadata
            self.error = error
        }

        /// `label level message key=value … error=…`, keys sorted.
        package var line: String {
            let fields = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let error = self.error.map { " error=\($0)" } ?? ""
            return "\(label) \(level) \(message) \(fields)\(error)"
        }
    }

    private let records = Mutex<[Record]>([])

    package init() {}

    /// Every record, in order.
    package var all: [Record] { records.withLock { $0 } }
    /// One rendered line per record.
    package var lines: [String] { all.map(\.line) }
    /// Every rendered line, newline-separated.
    package var text: String { lines.joined(separator: "\n") }

    package func append(_ record: Record) { records.withLock { $0.append(record) } }

    /// A logger that writes here (everything from `.trace` up).
    package var logger: Logger { logger(label: "groundmist-sync.tests.capture", level: .trace) }

    /// A logger at `level` that writes here.
    package func logger(label: String = "groundmist-sync", level: Logger.Level) -> Logger {
        var logger = Logger(label: label) { label in CapturingLogHandler(label: label, capture: self) }
        logger.logLevel = level
        return logger
    }
}

/// The `LogHandler` behind `LogCapture`.
package struct CapturingLogHandler: LogHandler {
    package let label: String
    package let capture: LogCapture
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level = .trace

    package init(label: String, capture: LogCapture) {
        self.label = label
        self.capture = capture
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var merged = metadata
        merged.merge(event.metadata ?? [:]) { _, new in new }
        capture.append(
            LogCapture.Record(label: label, level: event.level, message: "\(event.message)", metadata: merged, error: event.error.map { "\($0)" })
        )
    }
}
