import Crypto
import Foundation
import Testing

@testable import ATProto

/// Runs a token and returns "valid" or the XRPC error name.
private func verdict(_ verifier: ServiceAuthVerifier, _ token: String, lxm: String) async -> String {
    do {
        _ = try await verifier.verify(token: token, lexiconMethod: lxm)
        return "valid"
    } catch {
        return error.error
    }
}

@Suite("Service auth fixtures", .enabled(if: Fixtures.available, "needs ../shared/fixtures"))
struct ServiceAuthFixtureTests {
    @Test func everyTokenUnderDefaultConfig() async throws {
        let fixtures = try ServiceAuthFixtures()
        #expect(fixtures.tokens.count == 64)
        for token in fixtures.tokens {
            let (verifier, _) = try await fixtures.verifier(owner: token.owner)
            let result = await verdict(verifier, token.token, lxm: fixtures.context.lxm)
            #expect(result == token.expect, "\(token.name)")
        }
    }

    @Test func everyAlternativeConfig() async throws {
        let fixtures = try ServiceAuthFixtures()
        var checked = 0
        for token in fixtures.tokens {
            for alternative in token.expect_alt ?? [] {
                let (verifier, _) = try await fixtures.verifier(owner: token.owner, alternative: alternative.config)
                let result = await verdict(verifier, token.token, lxm: fixtures.context.lxm)
                #expect(result == alternative.expect, "\(token.name) with \(alternative.config)")
                checked += 1
            }
        }
        #expect(checked == 6)
    }

    @Test func replayIsRefused() async throws {
        let fixtures = try ServiceAuthFixtures()
        let token = try #require(fixtures.tokens.first { $0.name == "valid_k256_aud_service_fragment" })
        let (verifier, _) = try await fixtures.verifier(owner: token.owner)
        #expect(await verdict(verifier, token.token, lxm: fixtures.context.lxm) == "valid")
        #expect(await verdict(verifier, token.token, lxm: fixtures.context.lxm) == "JwtReplayed")
    }

    @Test func failedTokensDoNotFillTheReplayCache() async throws {
        let fixtures = try ServiceAuthFixtures()
        let tampered = try #require(fixtures.tokens.first { $0.name == "badjwtsignature_tampered_payload_k256" })
        let cache = ReplayCache<ServiceAuthVerifier.ReplayKey>(clock: ManualClock(Fixtures.now))
        let (base, resolver) = try await fixtures.verifier(owner: tampered.owner)
        let verifier = ServiceAuthVerifier(
            configuration: base.configuration,
            resolver: resolver,
            clock: ManualClock(Fixtures.now),
            replayCache: cache
        )
        #expect(await verdict(verifier, tampered.token, lxm: fixtures.context.lxm) == "BadJwtSignature")
        #expect(await cache.count == 0)
    }

    @Test func foreignIssuerNeverResolves() async throws {
        let fixtures = try ServiceAuthFixtures()
        for name in ["badjwtiss_other_account", "badjwtiss_with_fragment", "badjwtiss_uppercase"] {
            let token = try #require(fixtures.tokens.first { $0.name == name })
            let (verifier, resolver) = try await fixtures.verifier(owner: token.owner)
            #expect(await verdict(verifier, token.token, lxm: fixtures.context.lxm) == "BadJwtIss")
            #expect(await resolver.resolutionCount == 0, "\(name) caused a resolution")
        }
    }

    @Test func rotatedKeyUsesExactlyOneForcedRefresh() async throws {
        let fixtures = try ServiceAuthFixtures()
        let token = try #require(fixtures.tokens.first { $0.name == "badjwtsignature_rotated_key" })
        let (verifier, resolver) = try await fixtures.verifier(owner: token.owner)
        #expect(await verdict(verifier, token.token, lxm: fixtures.context.lxm) == "BadJwtSignature")
        #expect(await resolver.forcedRefreshCount == 1)
    }

    @Test func authorizationHeaderHandling() async throws {
        let fixtures = try ServiceAuthFixtures()
        let token = try #require(fixtures.tokens.first { $0.name == "valid_p256_aud_service_fragment" })
        let (verifier, _) = try await fixtures.verifier(owner: token.owner)
        let lxm = fixtures.context.lxm
        await #expect(throws: ServiceAuthError(.authMissing, "Authorization header is required")) {
            try await verifier.verify(authorization: [], lexiconMethod: lxm)
        }
        for malformed in ["Bearer", "Bearer  \(token.token)", "Bearer \(token.token) extra"] {
            do {
                _ = try await verifier.verify(authorization: [malformed], lexiconMethod: lxm)
                Issue.record("accepted malformed header")
            } catch {
                #expect(error.name == .invalidRequest)
                #expect(error.httpStatus == 400)
            }
        }
        do {
            _ = try await verifier.verify(authorization: ["bearer " + token.token, "Bearer x"], lexiconMethod: lxm)
            Issue.record("accepted two headers")
        } catch {
            #expect(error.name == .invalidRequest)
        }
        let verified = try await verifier.verify(authorization: ["bEaReR " + token.token], lexiconMethod: lxm)
        #expect(verified.did.string == fixtures.context.accounts["owner-p256"]?.did)
        #expect(verified.lexiconMethod == lxm)
    }
}

/// Tokens minted in the test with swift-crypto, for cases the fixtures do not cover.
@Suite("Service auth (minted tokens)")
struct ServiceAuthMintedTests {
    let key = P256.Signing.PrivateKey()
    let owner = try! DID("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")  // constant literal, not input-derived
    let service = try! DID("did:web:sync.example.com")
    let now: Double = 1_700_000_000

    func document() -> DIDDocument {
        DIDDocument(
            id: owner,
            alsoKnownAs: ["at://alice.example.com"],
            verificationMethods: [
                .init(id: "#atproto", type: "Multikey", controller: owner.string, publicKeyMultibase: PublicKey.p256(key.publicKey).multikey)
            ],
            services: []
        )
    }

    func mint(header: String = #"{"typ":"JWT","alg":"ES256"}"#, claims: [String: Any]) throws -> String {
        let payload = try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(payload)
        let signature = try key.signature(for: Array(input.utf8))
        return input + "." + Base64URL.encode(Self.lowS(Array(signature.rawRepresentation)))
    }

    /// swift-crypto does not normalise S; atproto signers do (s → n − s when s > n/2).
    static func lowS(_ signature: [UInt8]) -> [UInt8] {
        let order = UInt256(hex: "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")
        let half = UInt256(hex: "7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8")
        guard let s = UInt256(bigEndian: signature[32...]), half < s else { return signature }
        return Array(signature[..<32]) + order.subtractingReportingOverflow(s).0.bigEndianBytes
    }

    func claims(_ overrides: [String: Any] = [:]) -> [String: Any] {
        var base: [String: Any] = [
            "iss": owner.string, "aud": service.string + "#groundmist_sync", "lxm": "xyz.groundmist.sync.authenticate",
            "iat": Int(now), "exp": Int(now) + 60, "jti": UUID().uuidString,
        ]
        for (name, value) in overrides { base[name] = value }
        return base
    }

    func verifier(_ configure: (inout ServiceAuthConfiguration) -> Void = { _ in }) -> ServiceAuthVerifier {
        var configuration = ServiceAuthConfiguration(ownerDID: owner, serviceDID: service, serviceID: "groundmist_sync")
        configure(&configuration)
        return ServiceAuthVerifier(configuration: configuration, resolver: InMemoryDIDResolver(documents: [document()]), clock: ManualClock(now))
    }

    @Test func acceptsFreshToken() async throws {
        let verified = try await verifier().verify(token: try mint(claims: claims()), lexiconMethod: "xyz.groundmist.sync.authenticate")
        #expect(verified.expiresAt == now + 60)
    }

    @Test func eachFaultHasItsName() async throws {
        let lxm = "xyz.groundmist.sync.authenticate"
        let cases: [(String, String)] = [
            (try mint(claims: claims(["aud": service.string + "#other"])), "BadJwtAudience"),
            (try mint(claims: claims(["lxm": "xyz.groundmist.sync.other"])), "BadJwtLexiconMethod"),
            (try mint(claims: claims(["iat": Int(now) - 400, "exp": Int(now) - 31])), "JwtExpired"),
            (try mint(claims: claims(["iss": "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb"])), "BadJwtIss"),
            (try mint(header: #"{"typ":"at+jwt","alg":"ES256"}"#, claims: claims()), "BadJwtType"),
            (try mint(header: #"{"typ":7,"alg":"ES256"}"#, claims: claims()), "BadJwt"),
            (try mint(header: #"{"alg":"ES256K"}"#, claims: claims()), "BadJwtSignature"),
            (try mint(claims: claims(["jti": ""])), "BadJwt"),
            (try mint(claims: claims(["exp": "soon"])), "BadJwt"),
        ]
        for (token, expected) in cases {
            #expect(await verdict(verifier(), token, lxm: lxm) == expected)
        }
        // Tokens issued before a restart are refused when notIssuedBefore is set.
        let early = try mint(claims: claims(["iat": Int(now) - 10]))
        #expect(await verdict(verifier { $0.notIssuedBefore = now - 5 }, early, lxm: lxm) == "BadJwt")
        #expect(await verdict(verifier(), early, lxm: lxm) == "valid")
    }

    @Test func unresolvableOwnerIsServiceUnavailable() async throws {
        let configuration = ServiceAuthConfiguration(ownerDID: owner, serviceDID: service, serviceID: "groundmist_sync")
        let verifier = ServiceAuthVerifier(configuration: configuration, resolver: InMemoryDIDResolver(), clock: ManualClock(now))
        let token = try mint(claims: claims())
        do {
            _ = try await verifier.verify(token: token, lexiconMethod: "xyz.groundmist.sync.authenticate")
            Issue.record("accepted without a DID document")
        } catch {
            #expect(error.name == .identityUnavailable)
            #expect(error.httpStatus == 503)
        }
    }

    @Test func errorsRenderChallenges() {
        let error = ServiceAuthError(.jwtExpired, "token has expired")
        #expect(error.wwwAuthenticate == #"Bearer error="invalid_token", error_description="token has expired""#)
        #expect(ServiceAuthError(.authMissing, "x").wwwAuthenticate == "Bearer")
        #expect(ServiceAuthError(.badJwt, #"bad "quote""#).wwwAuthenticate == #"Bearer error="invalid_token""#)
    }
}
