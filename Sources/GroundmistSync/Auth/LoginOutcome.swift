package import AutomergeRepo

/// What a login decided, independent of HTTP (`AuthenticateRoutes` maps it to a response).
package enum LoginOutcome: Sendable, Equatable {
    /// The session may connect at once.
    case approved(LoginGrant)
    /// The session waits for `groundmist-sync sessions approve`; its token is refused until then.
    case pending(LoginGrant)
    case refused(LoginRefusal)
}

/// A login's outcome and the DPoP nonce that goes with it: every answer to a DPoP request carries a
/// fresh one (docs/auth.md §4.4), refusals included; nil for other requests.
package struct LoginResult: Sendable, Equatable {
    package var outcome: LoginOutcome
    package var dpopNonce: String?

    package init(_ outcome: LoginOutcome, dpopNonce: String? = nil) {
        self.outcome = outcome
        self.dpopNonce = dpopNonce
    }
}

/// The sync token a login earned and the root document to tell the app about. Printing or dumping
/// it never shows the token.
package struct LoginGrant: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    package var token: String
    package var rootDocUrl: AutomergeURL?

    package init(token: String, rootDocUrl: AutomergeURL?) {
        self.token = token
        self.rootDocUrl = rootDocUrl
    }

    package var description: String { "LoginGrant(token: …, rootDocUrl: \(rootDocUrl?.description ?? "nil"))" }
    package var customMirror: Mirror { Mirror(self, children: ["rootDocUrl": rootDocUrl as Any], displayStyle: .struct) }
}

/// Why a login was refused, what the client is told, and how it may retry.
package struct LoginRefusal: Error, Sendable, Equatable {
    package enum Reason: Sendable, Equatable {
        /// A malformed request: several `Authorization` headers, an unknown scheme, a bad body or DPoP proof header.
        case invalidRequest
        /// No credentials at all.
        case credentialsMissing
        /// `GROUNDMIST_LEGACY_AUTH=off`: only service-auth logins are accepted.
        case dpopLoginDisabled
        /// The DPoP handshake's first step: retry with the nonce sent along (not a failure).
        case dpopNonceRequired
        case invalidDPoPProof
        /// The PDS access token of a DPoP login was refused.
        case invalidAccessToken
        /// Too many new pending logins; retry after this many seconds.
        case rateLimited(retryAfter: Int)
        /// A refused service-auth token, by its XRPC error name and HTTP status.
        case serviceAuth(error: String, status: Int)
        /// The owner's DID document could not be resolved (a 503 with `Retry-After`); `error` is its XRPC name.
        case identityUnavailable(error: String)
        /// The server failed (storage); details are only logged.
        case serverError
    }

    package var reason: Reason
    /// For the client; never contains a token or internals.
    package var message: String
    /// The `WWW-Authenticate` challenge telling the client which credentials to send.
    package var challenge: String?

    package init(_ reason: Reason, _ message: String, challenge: String? = nil) {
        self.reason = reason
        self.message = message
        self.challenge = challenge
    }

    /// What a client without usable credentials is asked for.
    static let anyChallenge = "Bearer, DPoP algs=\"ES256\""
}
