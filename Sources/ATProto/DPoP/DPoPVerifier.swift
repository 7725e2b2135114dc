import Crypto

/// Verifies DPoP proofs (RFC 9449 §4.3) for ES256 keys, in the reference verifier's order.
///
/// A valid proof shows only that the caller holds *some* key; binding it to a token is the caller's job.
package struct DPoPVerifier: Sendable {
    package let configuration: DPoPConfiguration
    /// When set, proofs must carry one of its accepted nonces (atproto makes nonces mandatory).
    package let nonces: DPoPNonces?
    private let clock: any AuthClock
    private let replayCache: ReplayCache<ReplayKey>

    package struct ReplayKey: Hashable, Sendable {
        package let thumbprint: String
        package let jti: String
    }

    package struct VerifiedProof: Sendable, Equatable {
        /// RFC 7638 thumbprint of the proof key, to compare with a token's `cnf.jkt`.
        package let thumbprint: String
        package let jti: String
        package let issuedAt: Double
        /// `iss` if the (older) client sent one: only the client's own claim, never verified.
        package let claimedIssuer: String?
    }

    package init(
        configuration: DPoPConfiguration,
        nonces: DPoPNonces?,
        clock: any AuthClock = SystemClock(),
        replayCache: ReplayCache<ReplayKey>? = nil
    ) {
        self.configuration = configuration
        self.nonces = nonces
        self.clock = clock
        self.replayCache = replayCache ?? ReplayCache(clock: clock)
    }

    /// - Parameters:
    ///   - proofHeaders: every `DPoP` header value on the request (exactly one is allowed).
    ///   - method: the request method, compared case-sensitively with `htm`.
    ///   - path: the request target as received (path and optional query), appended to the public URL.
    ///   - accessToken: the token after `DPoP `, if any; `ath` must then match it.
    package func verify(proofHeaders: [String], method: String, path: String, accessToken: String?) async throws(DPoPError) -> VerifiedProof {
        let proof = try check(proofHeaders: proofHeaders, method: method, path: path, accessToken: accessToken)
        try await recordUse(of: proof)
        return proof
    }

    /// Spends the proof's `jti`: call once every other check of the request has passed, so a request
    /// refused for another reason (e.g. its access token) does not burn the proof.
    package func recordUse(of proof: VerifiedProof) async throws(DPoPError) {
        let fresh = await replayCache.insert(
            ReplayKey(thumbprint: proof.thumbprint, jti: proof.jti),
            expiresAt: clock.now() + configuration.replayLifetime
        )
        guard fresh else { throw invalid("DPoP proof replayed") }
    }

    /// Every check of `verify` except the replay cache, which `recordUse(of:)` updates.
    package func check(proofHeaders: [String], method: String, path: String, accessToken: String?) throws(DPoPError) -> VerifiedProof {
        guard let proof = proofHeaders.first, !proof.isEmpty else { throw invalid("DPoP proof required") }
        guard proofHeaders.count == 1 else { throw invalid("exactly one DPoP header is allowed") }
        let jws: CompactJWS
        do {
            jws = try CompactJWS(proof)
        } catch {
            throw invalid("DPoP proof is malformed: \(error)")
        }
        guard jws.header["typ"] == .string("dpop+jwt") else { throw invalid("DPoP proof typ must be dpop+jwt") }
        guard jws.header["alg"] == .string("ES256") else { throw invalid("DPoP proof alg must be ES256") }
        let jwk: ECPublicJWK
        do {
            jwk = try ECPublicJWK(json: jws.header["jwk"])
        } catch {
            throw invalid("DPoP proof \(error)")
        }
        // WebCrypto does not normalise S, so the atproto low-S rule does not apply to DPoP proofs.
        guard P256Verification.isValidSignature(jws.signature, for: jws.signingInput, key: jwk.key, requireLowS: false) else {
            throw invalid("DPoP proof signature is invalid")
        }
        guard let claims = JSONValue.object(from: jws.payload) else { throw invalid("DPoP proof payload is not a JSON object") }
        guard let jti = claims["jti"]?.stringValue, !jti.isEmpty else { throw invalid("DPoP proof jti is missing") }
        guard claims["htm"]?.stringValue == method else { throw invalid("DPoP proof htm does not match the request method") }
        try checkHTU(claims["htu"], path: path)
        guard let iat = claims["iat"]?.numberValue, iat.isFinite else { throw invalid("DPoP proof iat is missing") }
        let now = clock.now()
        guard iat >= now - configuration.maximumAge, iat <= now + configuration.maximumFutureSkew else {
            throw invalid("DPoP proof iat is outside the acceptance window")
        }
        try checkATH(claims["ath"], accessToken: accessToken)
        if let nonces {
            guard let nonce = claims["nonce"]?.stringValue, nonces.isAccepted(nonce) else {
                throw DPoPError(.useDPoPNonce, "DPoP proof nonce is missing or stale")
            }
        } else if let nonce = claims["nonce"], nonce.stringValue == nil {
            throw invalid("DPoP proof nonce is not a string")
        }
        // The jti is recorded by `recordUse(of:)`, so a proof refused for its nonce can be retried with the same jti.
        return VerifiedProof(thumbprint: jwk.thumbprint, jti: jti, issuedAt: iat, claimedIssuer: claims["iss"]?.stringValue)
    }

    private func checkHTU(_ claim: JSONValue?, path: String) throws(DPoPError) {
        guard let htu = claim?.stringValue, let normalized = HTU.normalize(htu) else {
            throw invalid("DPoP proof htu is missing or not an absolute http(s) URL")
        }
        if configuration.rejectQueryOrFragment && normalized.hadQueryOrFragment {
            throw invalid("DPoP proof htu must not carry a query or fragment")
        }
        let origin = configuration.publicURL.hasSuffix("/") ? String(configuration.publicURL.dropLast()) : configuration.publicURL
        let target = path.hasPrefix("/") ? path : "/" + path
        guard let expected = HTU.normalize(origin + target), expected.url == normalized.url else {
            throw invalid("DPoP proof htu does not match the request URL")
        }
    }

    private func checkATH(_ claim: JSONValue?, accessToken: String?) throws(DPoPError) {
        guard let accessToken else {
            if claim != nil { throw invalid("DPoP proof has ath but the request carries no access token") }
            return
        }
        let expected = Base64URL.encode(SHA256.hash(data: Array(accessToken.utf8)))
        guard claim?.stringValue == expected else { throw invalid("DPoP proof ath does not match the access token") }
    }

    private func invalid(_ message: String) -> DPoPError {
        DPoPError(.invalidDPoPProof, message)
    }
}
