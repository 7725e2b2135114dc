import Foundation

/// Limits that keep strangers from holding the server's resources, and which web pages may open
/// a development-mode WebSocket.
package struct HardeningConfiguration: Sendable, Equatable {
    /// A connection silent this long is closed (`GROUNDMIST_HTTP_IDLE_TIMEOUT`). WebSockets answer
    /// the server's pings, so a live one is never idle this long.
    package static let defaultIdleTimeout: Duration = .seconds(60)
    /// A connection must finish its first request's headers this soon after connecting
    /// (`GROUNDMIST_HTTP_HEADER_TIMEOUT`): a slow trickle of header bytes cannot hold it.
    package static let defaultHeaderTimeout: Duration = .seconds(15)

    package var idleTimeout: Duration
    package var headerTimeout: Duration
    /// Browser origins, besides loopback ones, allowed to open a development-mode WebSocket
    /// (`GROUNDMIST_DEV_ORIGINS`, normalised like `GROUNDMIST_ALLOWED_ORIGINS`); `*` allows any.
    package var developmentOrigins: [String]

    package init(
        idleTimeout: Duration = HardeningConfiguration.defaultIdleTimeout,
        headerTimeout: Duration = HardeningConfiguration.defaultHeaderTimeout,
        developmentOrigins: [String] = []
    ) {
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.developmentOrigins = developmentOrigins
    }

    /// Whether a development-mode WebSocket upgrade with these `Origin` values may proceed: no
    /// Origin (a native client), a loopback origin (a local app), or one listed. Any web page can
    /// otherwise open a socket to localhost and read every document other local apps have open.
    package func allowsDevelopmentUpgrade(origins: [String]) -> Bool {
        guard let origin = origins.first else { return true }
        guard origins.count == 1 else { return false }
        if developmentOrigins.contains("*") { return true }
        // Native WebSocket clients (swift-websocket, for one) send their URL's `ws://host` as Origin.
        var text = origin.lowercased()
        if text.hasPrefix("ws://") { text = "http://" + text.dropFirst(5) } else if text.hasPrefix("wss://") { text = "https://" + text.dropFirst(6) }
        guard let parsed = AuthenticationConfiguration.parseOrigin(text) else { return false }
        return LoopbackAddress.isLoopback(parsed.host) || developmentOrigins.contains(parsed.normalized)
    }

    static func parse(_ values: [String: String], problems: inout [ConfigurationProblem]) -> HardeningConfiguration {
        var configuration = HardeningConfiguration()
        func duration(_ variable: String) -> Duration? {
            guard let text = values[variable], !text.isEmpty else { return nil }
            guard let seconds = AuthenticationConfiguration.parseDuration(text) else {
                problems.append(.invalidTimeout(variable: variable, value: text))
                return nil
            }
            return .milliseconds(Int64(seconds * 1000))
        }
        if let idle = duration("GROUNDMIST_HTTP_IDLE_TIMEOUT") { configuration.idleTimeout = idle }
        if let header = duration("GROUNDMIST_HTTP_HEADER_TIMEOUT") { configuration.headerTimeout = header }
        if let text = values["GROUNDMIST_DEV_ORIGINS"] {
            for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
                if entry == "*" {
                    configuration.developmentOrigins.append(entry)
                } else if let origin = AuthenticationConfiguration.parseOrigin(entry) {
                    configuration.developmentOrigins.append(origin.normalized)
                } else {
                    problems.append(.invalidDevelopmentOrigin(entry))
                }
            }
        }
        return configuration
    }
}
