import Logging
import Synchronization

/// Renders every record as a full text line — label, level, message, handler and event metadata,
/// error — the way a stream handler would print it, so a test can search everything a log shows.
final class LogText: Sendable {
    private let lines = Mutex<[String]>([])

    var all: String { lines.withLock { $0.joined(separator: "\n") } }
    /// One entry per log record.
    var records: [String] { lines.withLock { $0 } }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    /// A logger at `level` that renders into this buffer.
    func logger(level: Logger.Level) -> Logger {
        var logger = Logger(label: "groundmist-sync") { label in RenderingLogHandler(label: label, text: self) }
        logger.logLevel = level
        return logger
    }
}

struct RenderingLogHandler: LogHandler {
    let label: String
    let text: LogText
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        merged.merge(event.metadata ?? [:]) { _, new in new }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let error = event.error.map { " error=\($0)" } ?? ""
        text.append("\(label) \(event.level) \(event.message) \(fields)\(error)")
    }
}
