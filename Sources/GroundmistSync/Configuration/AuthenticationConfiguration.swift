package import ATProto
import Foundation

/// How the server treats DPoP logins — the login of today's Groundmist apps
/// (`Authorization: DPoP <PDS access token>`), whose access token a third party cannot verify
/// (docs/auth.md §5). Set by `GROUNDMIST_LEGACY_AUTH` / `--legacy-auth`: the variable, the flag, the
/// `LegacyAuthDisabled` error name and the `legacy_auth_disabled` metric reason keep their old
/// spelling because deployments, apps and dashboards depend on it.
package enum DPoPLoginMode: String, Sendable, Equatable, CaseIterable {
    /// The session waits until the owner runs `groundmist-sync sessions approve ID` (default).
    case approve
    /// The session is approved at once, as the original server did; anyone who can forge a token-shaped
    /// string with the owner's DID gets in.
    case trust
    /// The DPoP path is refused; only verified service-auth logins work.
    case off
}

/// Settings of the authenticated mode, present exactly when `ATPROTO_DID` is set.
package struct AuthenticationConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// Apps the Groundmist project publishes; used when `GROUNDMIST_ALLOWED_ORIGINS` is unset.
    package static let defaultAllowedOrigins = ["https://library.groundmist.xyz", "https://editor.groundmist.xyz"]
    package static let defaultPLCURL = "https://plc.directory"
    /// 30 days: the apps reconnect with the same token for as long as a tab stays open.
    package static let defaultTokenLifetime: Double = 30 * 24 * 3600
    /// The fragment of the service DID the apps ask their PDS for tokens to (`aud`).
    package static let serviceID = "groundmist_sync"
    /// The XRPC method a service-auth token must be bound to (`lxm`).
    package static let authenticateMethod = "xyz.groundmist.sync.authenticate"

    /// The only account allowed in.
    package var ownerDID: DID
    /// HMAC key for sync tokens: the UTF-8 bytes of the variable, as the original server used it.
    /// Held as a `Secret`, so printing the configuration (or any service holding it) shows a redaction.
    package var secretKey: Secret
    /// Public origin, e.g. `https://sync.example.com`, without a trailing slash.
    package var publicURL: String
    /// Browser origins allowed by CORS; `["*"]` reflects any origin (the original's behaviour).
    package var allowedOrigins: [String]
    /// DPoP logins: approve, trust or off (`GROUNDMIST_LEGACY_AUTH`).
    package var dpopLogin: DPoPLoginMode
    package var plcURL: String
    /// Sync token lifetime, in seconds.
    package var tokenLifetime: Double
    /// Proxies whose `X-Forwarded-For` names the client recorded on a login (`GROUNDMIST_TRUSTED_PROXIES`).
    package var trustedProxies: TrustedProxies
    /// Pending-login caps and rates, and the DID cache (`GROUNDMIST_MAX_PENDING_LOGINS`, …).
    package var loginLimits: LoginLimits

    package init(
        ownerDID: DID,
        secretKey: Secret,
        publicURL: String,
        allowedOrigins: [String] = AuthenticationConfiguration.defaultAllowedOrigins,
        dpopLogin: DPoPLoginMode = .approve,
        plcURL: String = AuthenticationConfiguration.defaultPLCURL,
        tokenLifetime: Double = AuthenticationConfiguration.defaultTokenLifetime,
        trustedProxies: TrustedProxies = .loopback,
        loginLimits: LoginLimits = .default
    ) {
        self.ownerDID = ownerDID
        self.secretKey = secretKey
        self.publicURL = publicURL
        self.allowedOrigins = allowedOrigins
        self.dpopLogin = dpopLogin
        self.plcURL = plcURL
        self.tokenLifetime = tokenLifetime
        self.trustedProxies = trustedProxies
        self.loginLimits = loginLimits
    }

    /// One short line; the secret key is never part of it.
    package var description: String {
        "AuthenticationConfiguration(owner: \(ownerDID), publicURL: \(publicURL), dpopLogin: \(dpopLogin.rawValue), secretKey: \(secretKey))"
    }

    /// `did:web:<host>` (with `%3A<port>` for a non-default port) for `PUBLIC_URL`.
    package var serviceDID: String {
        guard let origin = Self.parseOrigin(publicURL) else { return "did:web:invalid" }
        var identifier = origin.host
        if let port = origin.port { identifier += "%3A\(port)" }
        return "did:web:" + identifier
    }

    /// Whether a browser origin may call the API.
    package func allows(origin: String) -> Bool {
        allowedOrigins.contains("*") || allowedOrigins.contains(origin.lowercased())
    }

    /// Reads the authentication variables; nil (development mode) when `ATPROTO_DID` is unset or empty.
    static func parse(_ values: [String: String], problems: inout [ConfigurationProblem]) -> AuthenticationConfiguration? {
        // Checked even without ATPROTO_DID, so a typo is reported before it matters.
        var dpopLogin = DPoPLoginMode.approve
        if let text = values["GROUNDMIST_LEGACY_AUTH"], !text.isEmpty {
            if let mode = DPoPLoginMode(rawValue: text.lowercased()) { dpopLogin = mode } else { problems.append(.invalidDPoPLogin(text)) }
        }
        var tokenLifetime = defaultTokenLifetime
        if let text = values["GROUNDMIST_TOKEN_LIFETIME"], !text.isEmpty {
            if let seconds = parseDuration(text) { tokenLifetime = seconds } else { problems.append(.invalidTokenLifetime(text)) }
        }
        var plcURL = defaultPLCURL
        if let text = values["PLC_URL"], !text.isEmpty {
            if parseOrigin(text, allowPath: true) != nil {
                plcURL = text.hasSuffix("/") ? String(text.dropLast()) : text
            } else {
                problems.append(.invalidPLCURL(text))
            }
        }
        var allowedOrigins = defaultAllowedOrigins
        if let text = values["GROUNDMIST_ALLOWED_ORIGINS"], !text.trimmingCharacters(in: .whitespaces).isEmpty {
            allowedOrigins = []
            for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
                if entry == "*" {
                    allowedOrigins.append(entry)
                } else if let origin = parseOrigin(entry) {
                    allowedOrigins.append(origin.normalized)
                } else {
                    problems.append(.invalidAllowedOrigin(entry))
                }
            }
        }
        var trustedProxies = TrustedProxies.loopback
        if let text = values["GROUNDMIST_TRUSTED_PROXIES"], !text.trimmingCharacters(in: .whitespaces).isEmpty {
            switch TrustedProxies.parse(text) {
            case .success(let parsed): trustedProxies = parsed
            case .failure(let bad): problems.append(.invalidTrustedProxy(bad.entry))
            }
        }
        let loginLimits = LoginLimits.parse(values, problems: &problems)
        var publicURL: String?
        if let text = values["PUBLIC_URL"], !text.isEmpty {
            if let origin = parseOrigin(text) { publicURL = origin.normalized } else { problems.append(.invalidPublicURL(text)) }
        }

        guard let didText = values["ATPROTO_DID"]?.trimmingCharacters(in: .whitespaces), !didText.isEmpty else { return nil }
        var owner: DID?
        do {
            let did = try DID(didText)
            try did.validateATProtoMethod()
            owner = did
        } catch {
            problems.append(.invalidOwnerDID(didText, reason: error.reason))
        }
        var secret: Secret?
        switch values["GROUNDMIST_SYNC_SECRET_KEY"] {
        case .none, .some(""):
            problems.append(.missingSecretKey)
        case .some(let text) where text.utf8.count < 32:
            problems.append(.shortSecretKey(bytes: text.utf8.count))
        case .some(let text):
            secret = Secret(text: text)
        }
        if publicURL == nil && values["PUBLIC_URL"].map(\.isEmpty) ?? true { problems.append(.missingPublicURL) }
        guard let owner, let secret, let publicURL else { return nil }
        return AuthenticationConfiguration(
            ownerDID: owner,
            secretKey: secret,
            publicURL: publicURL,
            allowedOrigins: allowedOrigins,
            dpopLogin: dpopLogin,
            plcURL: plcURL,
            tokenLifetime: tokenLifetime,
            trustedProxies: trustedProxies,
            loginLimits: loginLimits
        )
    }

    /// `30d`, `12h`, `90m`, `3600s` or a bare number of seconds; at least one second.
    package static func parseDuration(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let last = trimmed.last else { return nil }
        let multipliers: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        let (digits, multiplier) = multipliers[last].map { (trimmed.dropLast(), $0) } ?? (Substring(trimmed), 1)
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Double(digits), value >= 1
        else { return nil }
        return value * multiplier
    }

    struct Origin {
        let scheme: String
        let host: String
        let port: Int?
        var normalized: String { scheme + "://" + host + (port.map { ":\($0)" } ?? "") }
    }

    /// Parses `http(s)://host[:port]` (lower-cased, default ports dropped). With `allowPath`, a path may follow.
    static func parseOrigin(_ text: String, allowPath: Bool = false) -> Origin? {
        var rest = Substring(text.lowercased())
        let scheme: String
        if rest.hasPrefix("https://") {
            scheme = "https"
        } else if rest.hasPrefix("http://") {
            scheme = "http"
        } else {
            return nil
        }
        rest = rest.dropFirst(scheme.count + 3)
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[slash...]
            guard allowPath || path == "/" else { return nil }
            rest = rest[..<slash]
        }
        guard !rest.contains("?"), !rest.contains("#"), !rest.contains("@") else { return nil }
        var host = rest
        var port: Int?
        if let colon = rest.lastIndex(of: ":"), !rest.hasPrefix("[") || rest[..<colon].hasSuffix("]") {
            guard let value = ServerConfiguration.parsePort(String(rest[rest.index(after: colon)...])), value > 0 else { return nil }
            host = rest[..<colon]
            port = value
        }
        guard !host.isEmpty,
            host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "[" || $0 == "]" || $0 == ":") })
        else { return nil }
        if (scheme == "https" && port == 443) || (scheme == "http" && port == 80) { port = nil }
        return Origin(scheme: scheme, host: String(host), port: port)
    }
}
