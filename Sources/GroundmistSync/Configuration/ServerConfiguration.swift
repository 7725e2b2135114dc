import ATProto
package import AutomergeRepo
import Foundation
package import Logging

/// Everything the server needs to start, resolved from defaults, `.env`, the environment and flags.
package struct ServerConfiguration: Sendable, Equatable {
    /// 64 MiB: whole documents travel in one sync message, so the limit must be far above the 16 KiB WebSocket default.
    package static let defaultMaxMessageSize = 64 * 1024 * 1024
    /// Overrides `maxMessageSize`, in bytes.
    static let maxMessageSizeVariable = "GROUNDMIST_MAX_MESSAGE_BYTES"
    /// 64 KiB (below it a small document no longer fits one message) to 1 GiB (the WebSocket
    /// layer's frame length must fit 32 bits, and no peer should make the server buffer more).
    static let maxMessageSizeRange = (64 << 10)...(1 << 30)
    package static let defaultHost = "127.0.0.1"
    package static let defaultPort = 3031
    package static let defaultDataDirectory = ".data"

    /// Interface to bind. Only loopback addresses are accepted in development mode, which has no authentication.
    package var host: String
    /// TCP port; 0 asks the system for a free port (tests).
    package var port: Int
    /// Root of the NodeFS-compatible document store.
    package var dataDirectory: String
    /// Largest WebSocket message (and frame) accepted or sent, in bytes.
    package var maxMessageSize: Int
    /// How often the server pings each peer (the JS server uses 5 s).
    package var pingInterval: Duration
    package var logLevel: Logger.Level
    /// Escape hatch for binding beyond loopback without authentication (tests only; no variable sets it).
    package var allowUnauthenticatedNonLoopback: Bool
    /// Authentication settings; nil runs the local development mode (loopback only, no authentication).
    package var authentication: AuthenticationConfiguration?
    /// Per-connection queue and fragmentation bounds (`GROUNDMIST_MAX_*` variables).
    package var connectionLimits = ConnectionLimits.default
    /// Connection deadlines and the development-mode origins (`HardeningConfiguration`).
    package var hardening = HardeningConfiguration()
    /// Bounds of each repo's tables (`GROUNDMIST_EPHEMERAL_*`).
    package var repoLimits = RepoLimits.default
    /// `GROUNDMIST_REQUIRE_AUTH=1` (`serve --require-auth`): refuse to start rather than fall back to
    /// the development mode. The systemd unit and the Docker image set it, so a missing or
    /// incomplete configuration stops the service instead of serving without authentication.
    package var requireAuthentication: Bool
    /// `GROUNDMIST_STORAGE_FLUSH`: how a group-commit round is made durable (`auto` picks `syncfs` on
    /// Linux 5.8+, `files` elsewhere).
    package var storageFlush: GroupCommit.FlushMode = .automatic()

    package init(
        host: String = ServerConfiguration.defaultHost,
        port: Int = ServerConfiguration.defaultPort,
        dataDirectory: String = ServerConfiguration.defaultDataDirectory,
        maxMessageSize: Int = ServerConfiguration.defaultMaxMessageSize,
        pingInterval: Duration = .seconds(5),
        logLevel: Logger.Level = .info,
        allowUnauthenticatedNonLoopback: Bool = false
    ) {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.maxMessageSize = maxMessageSize
        self.pingInterval = pingInterval
        self.logLevel = logLevel
        self.allowUnauthenticatedNonLoopback = allowUnauthenticatedNonLoopback
        self.authentication = nil
        self.requireAuthentication = false
    }

    /// A peer that has not answered a ping by the time the next one is due is dropped, so the pong
    /// timeout equals the ping interval (hummingbird-websocket's auto-ping works this way).
    package var pongTimeout: Duration { pingInterval }

    /// The URL clients use to reach this server.
    package var webSocketURL: String {
        let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "ws://\(shownHost):\(port)"
    }

    /// Reads `HOST`, `PORT`, `DATA_DIR`, `LOG_LEVEL` and the authentication variables
    /// (`AuthenticationConfiguration`) from the environment, falling back to a
    /// `.env` file (the environment wins), then to the defaults. Every problem is reported at once.
    /// - Parameter overrides: command-line flags, as variables; they win over the environment.
    package static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        dotEnvPath: String? = ".env",
        overrides: [String: String] = [:]
    ) throws(ConfigurationError) -> ServerConfiguration {
        try parse(loadValues(environment: environment, dotEnvPath: dotEnvPath, overrides: overrides))
    }

    /// The merged variables (`.env`, then the environment, then `overrides`), unvalidated; for
    /// commands that need only a few of them.
    package static func loadValues(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        dotEnvPath: String? = ".env",
        overrides: [String: String] = [:]
    ) throws(ConfigurationError) -> [String: String] {
        var merged: [String: String] = [:]
        if let dotEnvPath, FileManager.default.fileExists(atPath: dotEnvPath) {
            let contents: String
            do {
                contents = try String(contentsOfFile: dotEnvPath, encoding: .utf8)
            } catch {
                throw ConfigurationError([.unreadableDotEnv(path: dotEnvPath, reason: "\(error)")])
            }
            merged = try DotEnv.parse(contents, path: dotEnvPath)
        }
        merged.merge(environment) { _, environmentValue in environmentValue }
        merged.merge(overrides) { _, flag in flag }
        return merged
    }

    /// Validates the recognised keys of `values`; unknown keys are ignored.
    package static func parse(_ values: [String: String]) throws(ConfigurationError) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        var problems: [ConfigurationProblem] = []
        if let host = values["HOST"] {
            let trimmed = host.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { problems.append(.emptyHost) } else { configuration.host = trimmed }
        }
        if let port = values["PORT"] {
            switch parsePort(port) {
            case .some(let value): configuration.port = value
            case .none: problems.append(.invalidPort(port))
            }
        }
        if let dataDirectory = values["DATA_DIR"] {
            if dataDirectory.isEmpty {
                problems.append(.emptyDataDirectory)
            } else {
                configuration.dataDirectory = dataDirectory
            }
        }
        if let level = values["LOG_LEVEL"] {
            if let parsed = Logger.Level(rawValue: level.lowercased()) {
                configuration.logLevel = parsed
            } else {
                problems.append(.invalidLogLevel(level))
            }
        }
        configuration.connectionLimits = ConnectionLimits.parse(values, problems: &problems)
        configuration.repoLimits = RepoLimits.parse(values, problems: &problems)
        if let text = values[Self.maxMessageSizeVariable]?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            if let size = Int(text), Self.maxMessageSizeRange.contains(size) {
                configuration.maxMessageSize = size
            } else {
                problems.append(.invalidMessageSize(text))
            }
        }
        configuration.hardening = HardeningConfiguration.parse(values, problems: &problems)
        if let text = values["GROUNDMIST_REQUIRE_AUTH"] {
            switch parseSwitch(text) {
            case .some(let value): configuration.requireAuthentication = value
            case .none: problems.append(.invalidRequireAuth(text))
            }
        }
        if let text = values["GROUNDMIST_STORAGE_FLUSH"] {
            if let mode = GroupCommit.FlushMode.parse(text) {
                configuration.storageFlush = mode
            } else {
                problems.append(.invalidStorageFlush(text))
            }
        }
        let authentication = AuthenticationConfiguration.parse(values, problems: &problems)
        let didSet = !(values["ATPROTO_DID"]?.trimmingCharacters(in: .whitespaces).isEmpty ?? true)
        if configuration.requireAuthentication && !didSet { problems.append(.authenticationRequired) }
        guard problems.isEmpty else { throw ConfigurationError(problems) }
        configuration.authentication = authentication
        return configuration
    }

    /// `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off` (any case); empty is off.
    package static func parseSwitch(_ text: String) -> Bool? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "1", "true", "yes", "on": return true
        case "", "0", "false", "no", "off": return false
        default: return nil
        }
    }

    /// Accepts a decimal port 0…65535; anything else (signs, spaces, hex) is a typo worth reporting.
    package static func parsePort(_ text: String) -> Int? {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }),
            let value = Int(text), (0...65535).contains(value)
        else { return nil }
        return value
    }
}

/// One thing wrong with the configuration, with a message that says how to fix it.
package enum ConfigurationProblem: Sendable, Equatable, CustomStringConvertible {
    case invalidPort(String)
    case emptyHost
    case emptyDataDirectory
    case invalidLogLevel(String)
    case unreadableDotEnv(path: String, reason: String)
    case malformedDotEnvLine(path: String, line: Int)
    case invalidOwnerDID(String, reason: String)
    case missingSecretKey
    case shortSecretKey(bytes: Int)
    case missingPublicURL
    case invalidPublicURL(String)
    case invalidAllowedOrigin(String)
    case invalidDPoPLogin(String)
    case invalidPLCURL(String)
    case invalidTokenLifetime(String)
    case invalidLimit(name: String, value: String)
    case invalidTimeout(variable: String, value: String)
    case invalidRate(variable: String, value: String)
    case invalidMessageSize(String)
    case invalidDevelopmentOrigin(String)
    case invalidTrustedProxy(String)
    case invalidRequireAuth(String)
    case invalidStorageFlush(String)
    case authenticationRequired

    package var description: String {
        switch self {
        case .invalidPort(let value):
            return "PORT must be a whole number from 0 to 65535 (got \"\(value)\")"
        case .emptyHost:
            return "HOST must not be empty; use 127.0.0.1 to listen on loopback"
        case .emptyDataDirectory:
            return "DATA_DIR must not be empty; it is where documents are stored (default .data)"
        case .invalidLogLevel(let value):
            let allowed = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            return "LOG_LEVEL must be one of \(allowed) (got \"\(value)\")"
        case .unreadableDotEnv(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .malformedDotEnvLine(let path, let line):
            return "\(path) line \(line) is not KEY=VALUE"
        case .invalidOwnerDID(let value, let reason):
            return "ATPROTO_DID must be your account's DID, e.g. did:plc:abc123 (got \"\(value)\": \(reason))"
        case .missingSecretKey:
            return "GROUNDMIST_SYNC_SECRET_KEY is required when ATPROTO_DID is set; generate one with: openssl rand -hex 32"
        case .shortSecretKey(let bytes):
            return "GROUNDMIST_SYNC_SECRET_KEY must be at least 32 bytes (got \(bytes)); generate one with: openssl rand -hex 32"
        case .missingPublicURL:
            return "PUBLIC_URL is required when ATPROTO_DID is set: the https origin clients use, e.g. https://sync.example.com"
        case .invalidPublicURL(let value):
            return "PUBLIC_URL must be an http(s) origin without a path, e.g. https://sync.example.com (got \"\(value)\")"
        case .invalidAllowedOrigin(let value):
            return "GROUNDMIST_ALLOWED_ORIGINS must be a comma-separated list of origins like https://app.example.com, or * (bad entry \"\(value)\")"
        case .invalidDPoPLogin(let value):
            return "GROUNDMIST_LEGACY_AUTH must be approve, trust or off (got \"\(value)\")"
        case .invalidPLCURL(let value):
            return "PLC_URL must be an http(s) URL, e.g. https://plc.directory (got \"\(value)\")"
        case .invalidTokenLifetime(let value):
            return "GROUNDMIST_TOKEN_LIFETIME must be a duration like 30d, 12h, 90m or 3600s (got \"\(value)\")"
        case .invalidLimit(let name, let value):
            return "\(name) must be a whole number above 0 (got \"\(value)\")"
        case .invalidTimeout(let variable, let value):
            return "\(variable) must be a duration like 60s or 2m (got \"\(value)\")"
        case .invalidMessageSize(let value):
            return "GROUNDMIST_MAX_MESSAGE_BYTES must be a number of bytes from 65536 to 1073741824 (got \"\(value)\")"
        case .invalidRate(let variable, let value):
            return "\(variable) must be a count and a duration like 5/2m: that many at once, then one per duration (got \"\(value)\")"
        case .invalidDevelopmentOrigin(let value):
            return "GROUNDMIST_DEV_ORIGINS must be a comma-separated list of origins like http://localhost:5173, or * (bad entry \"\(value)\")"
        case .invalidTrustedProxy(let value):
            return
                "GROUNDMIST_TRUSTED_PROXIES must be a comma-separated list of addresses or CIDR ranges, e.g. 127.0.0.1,172.16.0.0/12, or none (bad entry \"\(value)\")"
        case .invalidRequireAuth(let value):
            return "GROUNDMIST_REQUIRE_AUTH must be 1 or 0 (got \"\(value)\")"
        case .invalidStorageFlush(let value):
            return "GROUNDMIST_STORAGE_FLUSH must be auto, files or syncfs (got \"\(value)\")"
        case .authenticationRequired:
            return
                "authentication is required (GROUNDMIST_REQUIRE_AUTH=1 or --require-auth) but ATPROTO_DID is not set: "
                + "set ATPROTO_DID, GROUNDMIST_SYNC_SECRET_KEY and PUBLIC_URL (is the .env file missing or unreadable?)"
        }
    }
}

/// All the problems found in one configuration, so a user fixes them in one pass.
package struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    package let problems: [ConfigurationProblem]

    package init(_ problems: [ConfigurationProblem]) { self.problems = problems }

    package var description: String {
        "invalid configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
