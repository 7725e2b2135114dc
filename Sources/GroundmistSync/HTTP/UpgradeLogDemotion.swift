import Logging

/// Wraps the log handler hummingbird-websocket reports through, so a refused upgrade is not
/// logged as an error.
///
/// A refused WebSocket is answered 401 (`RefusedUpgrade`) and the connection closed; when the
/// client hangs up before hummingbird has re-armed the HTTP pipeline, the library logs
/// `Error handling upgrade result` at error level — roughly every other refusal. The refusal
/// itself is already logged once, at notice, with its reason; this library line says only that
/// the socket was gone, so it is kept at debug level. Everything else passes through unchanged.
struct UpgradeLogDemotion: LogHandler {
    static let demotedMessage = "Error handling upgrade result"

    var base: any LogHandler

    static func wrap(_ logger: Logger) -> Logger {
        let base = logger.handler
        return Logger(label: logger.label) { _ in UpgradeLogDemotion(base: base) }
    }

    var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { base.metadataProvider }
        set { base.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        if event.level > .debug && event.message.description == Self.demotedMessage { event.level = .debug }
        // Logger checked the level before the demotion; the demoted line must pass the base's filter again.
        guard event.level >= base.logLevel else { return }
        base.log(event: event)
    }
}
