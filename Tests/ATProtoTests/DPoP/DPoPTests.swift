import ByteEncodings
import Crypto
import Foundation
import Testing

@testable import ATProto

private struct ProofCase: Decodable {
    struct Request: Decodable {
        let method: String
        let url: String
        let authorization_scheme: String
        let access_token: String
    }
    struct Alternative: Decodable {
        struct Config: Decodable { let htu_reject_query_fragment: Bool? }
        let config: Config
        let expect: String
    }
    let name: String
    let expect: String
    let request: Request
    let proof: String?
    let replay_of: String?
    let expect_alt: [Alternative]?
}

private struct NonceFile: Decodable {
    struct Entry: Decodable {
        let counter: Int64
        let nonce: String
        let accepted: Bool
    }
    let secret_hex: String
    let rotation_interval_s: Double
    let nonces: [String: Entry]
}

private struct DPoPContext: Decodable {
    let public_url: String
    let owner_did: String
}

/// Builds the compatibility authenticator the fixtures assume, sharing one replay cache.
private func makeAuthenticator(rejectQueryOrFragment: Bool = false) throws -> CompatibilityAuthenticator {
    let context = try Fixtures.decode(DPoPContext.self, "dpop/context.json")
    let nonceFile = try Fixtures.decode(NonceFile.self, "dpop/nonce.json")
    let clock = ManualClock(Fixtures.now)
    var configuration = DPoPConfiguration(publicURL: context.public_url)
    configuration.rejectQueryOrFragment = rejectQueryOrFragment
    let nonces = DPoPNonces(secret: Hex.decode(nonceFile.secret_hex) ?? [], rotationInterval: nonceFile.rotation_interval_s, clock: clock)
    let verifier = DPoPVerifier(configuration: configuration, nonces: nonces, clock: clock)
    return CompatibilityAuthenticator(ownerDID: try DID(context.owner_did), dpop: verifier, clock: clock)
}

private func run(_ authenticator: CompatibilityAuthenticator, _ proof: ProofCase) async -> String {
    guard let url = HTU.normalize(proof.request.url), let pathStart = url.url.dropFirst("https://".count).firstIndex(of: "/") else {
        return "bad fixture url"
    }
    do {
        _ = try await authenticator.authenticate(
            authorization: ["\(proof.request.authorization_scheme) \(proof.request.access_token)"],
            proofHeaders: proof.proof.map { [$0] } ?? [],
            method: proof.request.method,
            path: String(url.url[pathStart...])
        )
        return "valid"
    } catch {
        return error.code.rawValue
    }
}

@Suite("DPoP fixtures", .enabled(if: Fixtures.available, "needs ../shared/fixtures"))
struct DPoPFixtureTests {
    @Test func everyProof() async throws {
        let proofs = try Fixtures.decode([ProofCase].self, "dpop/proofs.json")
        #expect(proofs.count == 53)
        for proof in proofs {
            // A fresh authenticator per case, so replay state only carries over where a case asks for it.
            let authenticator = try makeAuthenticator()
            if let original = proof.replay_of, let first = proofs.first(where: { $0.name == original }) {
                #expect(await run(authenticator, first) == "valid")
            }
            #expect(await run(authenticator, proof) == proof.expect, "\(proof.name)")
        }
    }

    @Test func alternativeConfigs() async throws {
        let proofs = try Fixtures.decode([ProofCase].self, "dpop/proofs.json")
        var checked = 0
        for proof in proofs {
            for alternative in proof.expect_alt ?? [] {
                let authenticator = try makeAuthenticator(rejectQueryOrFragment: alternative.config.htu_reject_query_fragment ?? false)
                #expect(await run(authenticator, proof) == alternative.expect, "\(proof.name)")
                checked += 1
            }
        }
        #expect(checked == 2)
    }

    @Test func validProofTwiceIsReplay() async throws {
        let proofs = try Fixtures.decode([ProofCase].self, "dpop/proofs.json")
        let valid = try #require(proofs.first { $0.name == "valid" })
        let authenticator = try makeAuthenticator()
        #expect(await run(authenticator, valid) == "valid")
        #expect(await run(authenticator, valid) == "invalid_dpop_proof")
    }

    @Test func nonceRejectionDoesNotBurnTheJti() async throws {
        let proofs = try Fixtures.decode([ProofCase].self, "dpop/proofs.json")
        let authenticator = try makeAuthenticator()
        let missing = try #require(proofs.first { $0.name == "nonce_missing" })
        #expect(await run(authenticator, missing) == "use_dpop_nonce")
        #expect(await run(authenticator, missing) == "use_dpop_nonce")
    }

    @Test func nonceValues() throws {
        let file = try Fixtures.decode(NonceFile.self, "dpop/nonce.json")
        let secret = try #require(Hex.decode(file.secret_hex))
        let nonces = DPoPNonces(secret: secret, rotationInterval: file.rotation_interval_s, clock: ManualClock(Fixtures.now))
        #expect(file.nonces.count == 4)
        for (name, entry) in file.nonces {
            #expect(nonces.nonce(counter: entry.counter) == entry.nonce, "\(name)")
            #expect(nonces.isAccepted(entry.nonce) == entry.accepted, "\(name)")
        }
        #expect(nonces.next() == file.nonces["next"]?.nonce)
    }

    @Test func thumbprintsAndATH() throws {
        struct Examples: Decodable {
            struct Thumbprint: Decodable {
                let jwk: [String: String]
                let thumbprint: String
            }
            struct ATH: Decodable {
                let access_token: String?
                let ath: String?
            }
            let jwk_thumbprints: [Thumbprint]
        }
        let examples = try Fixtures.decode(Examples.self, "dpop/rfc-examples.json")
        for example in examples.jwk_thumbprints {
            let computed: String
            if example.jwk["kty"] == "RSA" {
                computed = JWKThumbprint.rsa(e: example.jwk["e"] ?? "", n: example.jwk["n"] ?? "")
            } else {
                let jwk = try ECPublicJWK(json: .object(example.jwk.mapValues { .string($0) }))
                computed = jwk.thumbprint
            }
            #expect(computed == example.thumbprint)
        }
    }
}

@Suite("DPoP units")
struct DPoPUnitTests {
    @Test func rfc9449Examples() throws {
        let jwk = try ECPublicJWK(
            json: .object([
                "kty": .string("EC"), "crv": .string("P-256"),
                "x": .string("l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs"),
                "y": .string("9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"),
            ])
        )
        #expect(jwk.thumbprint == "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I")
        let ath = Base64URL.encode(SHA256.hash(data: Array("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU".utf8)))
        #expect(ath == "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo")
    }

    @Test func jwkRejections() {
        let good: [String: JSONValue] = [
            "kty": .string("EC"), "crv": .string("P-256"),
            "x": .string("l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs"),
            "y": .string("9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"),
        ]
        var withD = good
        withD["d"] = .string("AAAA")
        #expect(throws: ECPublicJWK.ParseError.containsPrivateKey) { try ECPublicJWK(json: .object(withD)) }
        var k1 = good
        k1["crv"] = .string("secp256k1")
        #expect(throws: ECPublicJWK.ParseError.unsupportedKeyType) { try ECPublicJWK(json: .object(k1)) }
        var shortX = good
        shortX["x"] = .string("AAAA")
        #expect(throws: ECPublicJWK.ParseError.invalidCoordinates) { try ECPublicJWK(json: .object(shortX)) }
        var offCurve = good
        offCurve["y"] = .string("9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDE")
        #expect(throws: ECPublicJWK.ParseError.notOnCurve) { try ECPublicJWK(json: .object(offCurve)) }
        #expect(throws: ECPublicJWK.ParseError.notObject) { try ECPublicJWK(json: .string("x")) }
        #expect(throws: ECPublicJWK.ParseError.notObject) { try ECPublicJWK(json: nil) }
    }

    @Test(arguments: [
        ("https://sync.example.com/authenticate", "https://sync.example.com/authenticate"),
        ("HTTPS://SYNC.example.COM:443/authenticate", "https://sync.example.com/authenticate"),
        ("http://localhost:80", "http://localhost/"),
        ("http://localhost:8080/a/./b/../c", "http://localhost:8080/a/c"),
        ("https://h.example/%61%2f%7e", "https://h.example/a%2F~"),
        ("https://h.example/x?q=1#f", "https://h.example/x"),
        ("https://h.example/a/..", "https://h.example/"),
        ("https://h.example/%+f%4", "https://h.example/%+f%4"),
    ])
    func htuNormalisation(input: String, expected: String) {
        #expect(HTU.normalize(input)?.url == expected)
    }

    @Test(arguments: [
        "/authenticate", "ftp://h.example/x", "https://user@h.example/x", "https://", "https://h.example:99999/", "https://h.example:x/",
        "https://h.example/ x",
    ])
    func htuRejections(input: String) {
        #expect(HTU.normalize(input) == nil)
    }

    @Test func challenges() {
        #expect(DPoPError(.missingCredentials, "").wwwAuthenticate == #"Bearer, DPoP algs="ES256""#)
        #expect(
            DPoPError(.invalidDPoPProof, "DPoP proof replayed").wwwAuthenticate
                == #"DPoP error="invalid_dpop_proof", error_description="DPoP proof replayed", algs="ES256""#
        )
        #expect(
            DPoPError(.useDPoPNonce, "x").wwwAuthenticate
                == #"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#
        )
        #expect(
            DPoPError(.invalidToken, "Invalid DPoP key binding").wwwAuthenticate
                == #"DPoP error="invalid_token", error_description="Invalid DPoP key binding", algs="ES256""#
        )
        #expect(
            DPoPError(.invalidToken, "expired", bearerScheme: true).wwwAuthenticate == #"Bearer error="invalid_token", error_description="expired""#
        )
        #expect(DPoPError(.invalidRequest, "x").httpStatus == 400)
        #expect(DPoPError(.invalidRequest, "x").wwwAuthenticate == nil)
        #expect(DPoPError(.invalidDPoPProof, #"has "quotes""#).wwwAuthenticate == #"DPoP error="invalid_dpop_proof", algs="ES256""#)
    }

    @Test func proofWithoutAccessTokenMustNotCarryATH() async throws {
        let key = P256.Signing.PrivateKey()
        let raw = Array(key.publicKey.x963Representation)
        let jwk = #"{"kty":"EC","crv":"P-256","x":"\#(Base64URL.encode(raw[1..<33]))","y":"\#(Base64URL.encode(raw[33...]))"}"#
        func proof(_ claims: String) throws -> String {
            let input = Base64URL.encode(Array(#"{"typ":"dpop+jwt","alg":"ES256","jwk":\#(jwk)}"#.utf8)) + "." + Base64URL.encode(Array(claims.utf8))
            return input + "." + Base64URL.encode(try key.signature(for: Array(input.utf8)).rawRepresentation)
        }
        let verifier = DPoPVerifier(configuration: DPoPConfiguration(publicURL: "http://localhost:8080/"), nonces: nil, clock: ManualClock(1000))
        let ok = try proof(#"{"jti":"a","htm":"GET","htu":"http://LOCALHOST:8080/x","iat":1000}"#)
        let verified = try await verifier.verify(proofHeaders: [ok], method: "GET", path: "/x?y=1", accessToken: nil)
        #expect(verified.jti == "a")
        let withATH = try proof(#"{"jti":"b","htm":"GET","htu":"http://localhost:8080/x","iat":1000,"ath":"abc"}"#)
        await #expect(throws: DPoPError.self) { try await verifier.verify(proofHeaders: [withATH], method: "GET", path: "/x", accessToken: nil) }
        await #expect(throws: DPoPError.self) { try await verifier.verify(proofHeaders: [ok, ok], method: "GET", path: "/x", accessToken: nil) }
        await #expect(throws: DPoPError.self) { try await verifier.verify(proofHeaders: [""], method: "GET", path: "/x", accessToken: nil) }
    }
}
