/// The compatibility path for today's apps: `Authorization: DPoP <PDS access token>` plus a proof.
///
/// The proof is verified in full; the access token is only *read* (see `UnverifiedAccessToken`), so
/// a successful result proves key possession and a *claimed* owner DID, not a genuine token. Sessions
/// created from it must stay pending until the owner approves them.
///
/// Errors carry the docs/auth.md §4.5 challenge, but note docs/auth.md §11.1: the atproto browser
/// client answers a DPoP `invalid_token` challenge by refreshing and then deleting the user's login,
/// so the server should think twice before sending that challenge for PDS tokens.
package struct CompatibilityAuthenticator: Sendable {
    package let ownerDID: DID
    /// Accept opaque `tok-…` access tokens (self-hosted PDSes of early 2025). They carry no `sub` or
    /// `cnf.jkt`, so only the proof is checked; off by default.
    package let acceptOpaqueTokens: Bool
    private let dpop: DPoPVerifier
    private let clock: any AuthClock

    package struct Result: Sendable, Equatable {
        /// The token's claims, or nil for an accepted opaque token.
        package let token: UnverifiedAccessToken?
        package let proof: DPoPVerifier.VerifiedProof
    }

    package init(ownerDID: DID, dpop: DPoPVerifier, clock: any AuthClock = SystemClock(), acceptOpaqueTokens: Bool = false) {
        self.ownerDID = ownerDID
        self.dpop = dpop
        self.clock = clock
        self.acceptOpaqueTokens = acceptOpaqueTokens
    }

    /// - Parameters:
    ///   - authorization: all `Authorization` header values.
    ///   - proofHeaders: all `DPoP` header values.
    package func authenticate(
        authorization: [String],
        proofHeaders: [String],
        method: String,
        path: String
    ) async throws(DPoPError) -> Result {
        guard let header = authorization.first, !header.isEmpty else {
            throw DPoPError(.missingCredentials, "Authorization header is required")
        }
        guard authorization.count == 1 else { throw DPoPError(.invalidRequest, "more than one Authorization header") }
        let parts = header.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[1].isEmpty else {
            throw DPoPError(.invalidRequest, "Authorization header must be '<scheme> <token>'")
        }
        let token = String(parts[1])
        switch parts[0].lowercased() {
        case "bearer":
            // RFC 9449 §7.2: a DPoP-bound token must not be downgraded to Bearer.
            let bound = (try? UnverifiedAccessToken(decoding: token))?.cnfJKT != nil
            throw DPoPError(
                .invalidToken,
                bound ? "DPoP-bound access token sent with the Bearer scheme" : "this endpoint requires a DPoP-bound token",
                bearerScheme: true
            )
        case "dpop":
            break
        default:
            throw DPoPError(.invalidRequest, "unsupported Authorization scheme")
        }
        // The proof's jti is spent only once the token checks pass too: a refused request leaves it unused.
        let proof = try dpop.check(proofHeaders: proofHeaders, method: method, path: path, accessToken: token)
        let accessToken: UnverifiedAccessToken
        do {
            accessToken = try UnverifiedAccessToken(decoding: token)
        } catch {
            if acceptOpaqueTokens && error == .notJWT && !token.contains(".") {
                try await dpop.recordUse(of: proof)
                return Result(token: nil, proof: proof)
            }
            throw DPoPError(.invalidToken, error.description)
        }
        guard let jkt = accessToken.cnfJKT else { throw DPoPError(.invalidToken, "access token is not DPoP-bound") }
        guard jkt == proof.thumbprint else { throw DPoPError(.invalidToken, "Invalid DPoP key binding") }
        guard accessToken.sub == ownerDID.string else { throw DPoPError(.invalidToken, "access token is for another account") }
        guard clock.now() < accessToken.exp else { throw DPoPError(.invalidToken, "access token has expired") }
        try await dpop.recordUse(of: proof)
        return Result(token: accessToken, proof: proof)
    }
}
