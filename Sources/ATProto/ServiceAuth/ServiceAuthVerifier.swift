package import Logging

/// Verifies inter-service ("service auth") JWTs for the owner account, following docs/auth.md §3.1 in order.
///
/// The owner check comes before any resolution, so tokens naming other DIDs never cause network
/// traffic. The replay cache is filled only after the signature verified.
package struct ServiceAuthVerifier: Sendable {
    package let configuration: ServiceAuthConfiguration
    private let resolver: any DIDResolver
    private let clock: any AuthClock
    private let replayCache: ReplayCache<ReplayKey>
    private let logger: Logger

    package struct ReplayKey: Hashable, Sendable {
        package let issuer: String
        package let jti: String
    }

    /// What a verified token establishes. Nothing in it identifies the client app.
    package struct Verified: Sendable, Equatable {
        package let did: DID
        package let lexiconMethod: String
        package let audience: String
        package let jti: String
        package let issuedAt: Double
        package let expiresAt: Double
    }

    package init(
        configuration: ServiceAuthConfiguration,
        resolver: any DIDResolver,
        clock: any AuthClock = SystemClock(),
        replayCache: ReplayCache<ReplayKey>? = nil,
        logger: Logger = Logger(label: "groundmist.atproto.service-auth")
    ) {
        self.logger = logger
        self.configuration = configuration
        self.resolver = resolver
        self.clock = clock
        self.replayCache = replayCache ?? ReplayCache(clock: clock)
    }

    /// Verifies an `Authorization` header value (`Bearer <jwt>`) for the endpoint `lexiconMethod`.
    ///
    /// - Parameter authorization: every `Authorization` header value on the request (must be exactly one).
    package func verify(authorization: [String], lexiconMethod: String) async throws(ServiceAuthError) -> Verified {
        guard let header = authorization.first, !header.isEmpty else {
            throw ServiceAuthError(.authMissing, "Authorization header is required")
        }
        guard authorization.count == 1 else { throw ServiceAuthError(.invalidRequest, "more than one Authorization header") }
        let parts = header.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[1].isEmpty else {
            throw ServiceAuthError(.invalidRequest, "Authorization header must be '<scheme> <token>'")
        }
        guard parts[0].lowercased() == "bearer" else {
            throw ServiceAuthError(.authMissing, "expected a Bearer token")
        }
        return try await verify(token: String(parts[1]), lexiconMethod: lexiconMethod)
    }

    /// Verifies a compact service-auth JWT for the endpoint `lexiconMethod`.
    package func verify(token: String, lexiconMethod: String) async throws(ServiceAuthError) -> Verified {
        do {
            return try await verifyInOrder(token: token, lexiconMethod: lexiconMethod)
        } catch {
            // The reason only: tokens are credentials and never logged. The reason is escaped again:
            // whatever part of it came from the token cannot break the line.
            logger.info(
                "service-auth token refused",
                metadata: ["error": "\(error.name.rawValue)", "reason": "\(LogSafe(error.message, limit: 400))"]
            )
            throw error
        }
    }

    private func verifyInOrder(token: String, lexiconMethod: String) async throws(ServiceAuthError) -> Verified {
        let config = configuration
        // 1. Form.
        let jws: CompactJWS
        do {
            jws = try CompactJWS(token, maximumLength: config.maximumTokenLength)
        } catch {
            throw ServiceAuthError(.badJwt, error.description)
        }
        // 2. Header.
        let algorithm = try Self.checkHeader(jws.header)
        // 3. Claims.
        let claims = try Claims(payload: jws.payload)
        // 4. Issuer, before any resolution.
        guard claims.iss == config.ownerDID.string else {
            throw ServiceAuthError(.badJwtIss, "token issuer is not the account this server belongs to")
        }
        // 5. Audience.
        guard config.acceptedAudiences.contains(claims.aud) else {
            throw ServiceAuthError(.badJwtAudience, "token audience is not this service")
        }
        // 6. Method.
        guard claims.lxm == lexiconMethod else {
            throw ServiceAuthError(.badJwtLexiconMethod, "token is for method \(LogSafe(claims.lxm)), not \(lexiconMethod)")
        }
        // 7. Time.
        try checkTimes(claims)
        // 8–9. Key and signature, with one forced refresh for key rotation.
        try await checkSignature(jws, algorithm: algorithm)
        // 10. Replay.
        let inserted = await replayCache.insert(
            ReplayKey(issuer: claims.iss, jti: claims.jti),
            expiresAt: claims.exp + config.expirationLeeway
        )
        guard inserted else { throw ServiceAuthError(.jwtReplayed, "token has already been used") }
        return Verified(
            did: config.ownerDID,
            lexiconMethod: claims.lxm,
            audience: claims.aud,
            jti: claims.jti,
            issuedAt: claims.iat,
            expiresAt: claims.exp
        )
    }

    /// Returns `alg`. Key material in the header (`jwk`, `jku`, `x5c`, `x5u`) is ignored on purpose.
    private static func checkHeader(_ header: [String: JSONValue]) throws(ServiceAuthError) -> String {
        guard let algorithm = header["alg"]?.stringValue else { throw ServiceAuthError(.badJwt, "token header has no alg") }
        if let typ = header["typ"] {
            guard let typString = typ.stringValue else { throw ServiceAuthError(.badJwt, "token header typ is not a string") }
            guard typString == "JWT" else { throw ServiceAuthError(.badJwtType, "token type \(LogSafe(typString)) is not a service-auth JWT") }
        }
        if let kid = header["kid"], kid != .string("#atproto") {
            throw ServiceAuthError(.badJwt, "token header kid must be absent or #atproto")
        }
        guard header["crit"] == nil else { throw ServiceAuthError(.badJwt, "token header crit is not supported") }
        return algorithm
    }

    private func checkTimes(_ claims: Claims) throws(ServiceAuthError) {
        let config = configuration
        let now = clock.now()
        guard now <= claims.exp + config.expirationLeeway else { throw ServiceAuthError(.jwtExpired, "token has expired") }
        guard claims.iat <= now + config.maximumFutureIssuedAt else {
            throw ServiceAuthError(.badJwt, "token iat is too far in the future (check the clocks)")
        }
        guard claims.exp > claims.iat else { throw ServiceAuthError(.badJwt, "token exp is not after iat") }
        guard claims.exp - claims.iat <= config.maximumLifetime else {
            throw ServiceAuthError(.badJwt, "token lifetime exceeds \(Int(config.maximumLifetime)) s; request a shorter exp")
        }
        if let notBefore = config.notIssuedBefore, claims.iat < notBefore {
            throw ServiceAuthError(.badJwt, "token was issued before this server started; request a new one")
        }
    }

    private func checkSignature(_ jws: CompactJWS, algorithm: String) async throws(ServiceAuthError) {
        guard algorithm == "ES256K" || algorithm == "ES256" else {
            throw ServiceAuthError(.badJwtSignature, "token alg \(LogSafe(algorithm)) is not ES256K or ES256")
        }
        guard jws.signature.count == 64 else {
            throw ServiceAuthError(.badJwtSignature, "token signature must be 64 bytes (r||s)")
        }
        let did = configuration.ownerDID
        let key = try await signingKey(did, forceRefresh: false)
        if verifies(jws, algorithm: algorithm, key: key) { return }
        // The key may have rotated: refresh once (rate-limited by the caching resolver) and retry.
        // A failed refresh leaves the original verdict: the signature did not verify.
        if let refreshed = try? await signingKey(did, forceRefresh: true), refreshed != key,
            verifies(jws, algorithm: algorithm, key: refreshed)
        {
            return
        }
        throw ServiceAuthError(.badJwtSignature, "token signature does not verify with the account's signing key")
    }

    private func verifies(_ jws: CompactJWS, algorithm: String, key: PublicKey) -> Bool {
        key.jwtAlgorithm == algorithm
            && key.isValidSignature(jws.signature, for: jws.signingInput, requireLowS: configuration.strictLowS)
    }

    private func signingKey(_ did: DID, forceRefresh: Bool) async throws(ServiceAuthError) -> PublicKey {
        let document: DIDDocument
        do {
            document = try await resolver.resolve(did, forceRefresh: forceRefresh)
        } catch {
            throw ServiceAuthError(.identityUnavailable, "could not resolve the account's DID document: \(error)")
        }
        do {
            return try document.atprotoSigningKey()
        } catch {
            throw ServiceAuthError(.identityUnavailable, "the account's DID document has no usable signing key: \(error)")
        }
    }
}

extension ServiceAuthVerifier {
    /// The claims docs/auth.md §3.1 step 3 requires, with exact JSON types.
    struct Claims {
        let iss: String
        let aud: String
        let exp: Double
        let iat: Double
        let lxm: String
        let jti: String

        init(payload: [UInt8]) throws(ServiceAuthError) {
            guard let object = JSONValue.object(from: payload) else {
                throw ServiceAuthError(.badJwt, "token payload is not a JSON object")
            }
            func string(_ name: String) throws(ServiceAuthError) -> String {
                guard let value = object[name]?.stringValue else {
                    throw ServiceAuthError(.badJwt, "token claim \(name) is missing or not a string")
                }
                return value
            }
            func number(_ name: String) throws(ServiceAuthError) -> Double {
                guard let value = object[name]?.numberValue, value.isFinite else {
                    throw ServiceAuthError(.badJwt, "token claim \(name) is missing or not a number")
                }
                return value
            }
            iss = try string("iss")
            aud = try string("aud")
            exp = try number("exp")
            iat = try number("iat")
            lxm = try string("lxm")
            jti = try string("jti")
            guard !jti.isEmpty else { throw ServiceAuthError(.badJwt, "token claim jti is empty") }
        }
    }
}
