/// A refused service-auth token, with the XRPC error name the response should carry.
package struct ServiceAuthError: Error, Equatable, Sendable, CustomStringConvertible {
    package enum Name: String, Sendable, CaseIterable {
        case authMissing = "AuthMissing"
        case invalidRequest = "InvalidRequest"
        case badJwt = "BadJwt"
        case badJwtType = "BadJwtType"
        case badJwtIss = "BadJwtIss"
        case badJwtAudience = "BadJwtAudience"
        case badJwtLexiconMethod = "BadJwtLexiconMethod"
        case jwtExpired = "JwtExpired"
        case badJwtSignature = "BadJwtSignature"
        case jwtReplayed = "JwtReplayed"
        /// The owner's DID document could not be obtained: a server-side problem, not bad credentials.
        case identityUnavailable = "IdentityUnavailable"
    }

    package let name: Name
    /// A short, specific message; never contains the token.
    package let message: String

    package init(_ name: Name, _ message: String) {
        self.name = name
        self.message = message
    }

    /// XRPC error name for the JSON body `{"error", "message"}`.
    package var error: String { name.rawValue }

    /// 401 for credential problems, 400 for a malformed header, 503 when identity resolution failed.
    package var httpStatus: Int {
        switch name {
        case .invalidRequest: 400
        case .identityUnavailable: 503
        default: 401
        }
    }

    /// RFC 6750 challenge to send with the 401.
    package var wwwAuthenticate: String? {
        switch name {
        case .authMissing: "Bearer"
        case .invalidRequest, .identityUnavailable: nil
        default: WWWAuthenticate.challenge(scheme: "Bearer", parameters: [("error", "invalid_token"), ("error_description", message)])
        }
    }

    package var description: String { "\(name.rawValue): \(message)" }
}
