import Foundation
import Testing

@testable import ATProto

@Suite("Unverified access tokens")
struct AccessTokenTests {
    private func token(_ claims: String) -> String {
        Base64URL.encode(Array(#"{"typ":"at+jwt","alg":"HS256"}"#.utf8)) + "." + Base64URL.encode(Array(claims.utf8)) + ".c2ln"
    }

    @Test func readsClaimsWithoutVerifying() throws {
        let decoded = try UnverifiedAccessToken(
            decoding: token(
                #"{"sub":"did:plc:x","exp":1800000100,"cnf":{"jkt":"abc"},"client_id":"https://app/meta.json","iss":"https://pds","aud":"did:web:pds"}"#
            )
        )
        #expect(decoded.sub == "did:plc:x")
        #expect(decoded.exp == 1_800_000_100)
        #expect(decoded.cnfJKT == "abc")
        #expect(decoded.clientID == "https://app/meta.json")
        #expect(decoded.iss == "https://pds")
        #expect(decoded.isBound(toThumbprint: "abc"))
        #expect(!decoded.isBound(toThumbprint: "abd"))
    }

    @Test func rejectsMalformed() {
        #expect(throws: UnverifiedAccessToken.DecodingError.notJWT) { try UnverifiedAccessToken(decoding: "tok-0123456789abcdef") }
        #expect(throws: UnverifiedAccessToken.DecodingError.payloadNotObject) { try UnverifiedAccessToken(decoding: token("[1]")) }
        #expect(throws: UnverifiedAccessToken.DecodingError.missingClaim("sub")) { try UnverifiedAccessToken(decoding: token(#"{"exp":1}"#)) }
        #expect(throws: UnverifiedAccessToken.DecodingError.missingClaim("exp")) {
            try UnverifiedAccessToken(decoding: token(#"{"sub":"x","exp":"1"}"#))
        }
        #expect(throws: UnverifiedAccessToken.DecodingError.missingClaim("cnf.jkt")) {
            try UnverifiedAccessToken(decoding: token(#"{"sub":"x","exp":1,"cnf":{"jkt":5}}"#))
        }
    }

    @Test(.enabled(if: Fixtures.available, "needs ../shared/fixtures"))
    func fixtureTokens() throws {
        struct File: Decodable {
            struct Entry: Decodable {
                struct Payload: Decodable {
                    struct Cnf: Decodable { let jkt: String }
                    let sub: String
                    let exp: Double
                    let client_id: String
                    let cnf: Cnf?
                }
                let token: String
                let payload: Payload
            }
            let tokens: [String: Entry]
        }
        let file = try Fixtures.decode(File.self, "dpop/access-tokens.json")
        #expect(file.tokens.count == 5)
        for (name, entry) in file.tokens {
            let decoded = try UnverifiedAccessToken(decoding: entry.token)
            #expect(decoded.sub == entry.payload.sub, "\(name)")
            #expect(decoded.exp == entry.payload.exp, "\(name)")
            #expect(decoded.clientID == entry.payload.client_id, "\(name)")
            #expect(decoded.cnfJKT == entry.payload.cnf?.jkt, "\(name)")
        }
    }
}

@Suite("Compatibility path")
struct CompatibilityAuthenticatorTests {
    let owner = try! DID("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")  // constant literal

    private func authenticator(opaque: Bool) -> CompatibilityAuthenticator {
        let clock = ManualClock(1000)
        let verifier = DPoPVerifier(configuration: DPoPConfiguration(publicURL: "https://sync.example.com"), nonces: nil, clock: clock)
        return CompatibilityAuthenticator(ownerDID: owner, dpop: verifier, clock: clock, acceptOpaqueTokens: opaque)
    }

    @Test func opaqueTokensOnlyWhenEnabled() async throws {
        let minter = ProofMinter()
        let token = "tok-0123456789abcdef0123456789abcdef"
        let claims = #"{"jti":"j1","htm":"POST","htu":"https://sync.example.com/authenticate","iat":1000,"ath":"\#(ProofMinter.ath(token))"}"#
        let proof = try minter.proof(claims: claims)
        await #expect(throws: DPoPError.self) {
            try await authenticator(opaque: false).authenticate(
                authorization: ["DPoP " + token],
                proofHeaders: [proof],
                method: "POST",
                path: "/authenticate"
            )
        }
        let result = try await authenticator(opaque: true).authenticate(
            authorization: ["DPoP " + token],
            proofHeaders: [proof],
            method: "POST",
            path: "/authenticate"
        )
        #expect(result.token == nil)
        #expect(result.proof.thumbprint == minter.thumbprint)
    }

    @Test func boundTokenForOwner() async throws {
        let minter = ProofMinter()
        let payload = #"{"sub":"\#(owner.string)","exp":2000,"cnf":{"jkt":"\#(minter.thumbprint)"},"client_id":"https://app.example/client.json"}"#
        let token = Base64URL.encode(Array(#"{"typ":"at+jwt","alg":"HS256"}"#.utf8)) + "." + Base64URL.encode(Array(payload.utf8)) + ".c2ln"
        let claims =
            #"{"jti":"j2","htm":"POST","htu":"https://sync.example.com/authenticate","iat":1000,"ath":"\#(ProofMinter.ath(token))","iss":"https://app.example/client.json"}"#
        let result = try await authenticator(opaque: false).authenticate(
            authorization: ["dpop " + token],
            proofHeaders: [try minter.proof(claims: claims)],
            method: "POST",
            path: "/authenticate"
        )
        #expect(result.token?.clientID == "https://app.example/client.json")
        #expect(result.proof.claimedIssuer == "https://app.example/client.json")
        // Missing and malformed Authorization headers.
        do {
            _ = try await authenticator(opaque: false).authenticate(authorization: [], proofHeaders: [], method: "POST", path: "/authenticate")
            Issue.record("accepted a request without credentials")
        } catch {
            #expect(error.code == .missingCredentials)
            #expect(error.wwwAuthenticate == #"Bearer, DPoP algs="ES256""#)
        }
        do {
            _ = try await authenticator(opaque: false).authenticate(authorization: ["DPoP"], proofHeaders: [], method: "POST", path: "/authenticate")
            Issue.record("accepted a malformed header")
        } catch {
            #expect(error.code == .invalidRequest)
        }
    }

    /// A proof refused for its access token is not spent: the same jti works with a good token,
    /// and only then is it a replay.
    @Test func proofIsSpentOnlyWhenTheWholeRequestPasses() async throws {
        let clock = ManualClock(1000)
        let verifier = DPoPVerifier(configuration: DPoPConfiguration(publicURL: "https://sync.example.com"), nonces: nil, clock: clock)
        let authenticator = CompatibilityAuthenticator(ownerDID: owner, dpop: verifier, clock: clock)
        let minter = ProofMinter()
        func token(sub: String) -> String {
            let payload = #"{"sub":"\#(sub)","exp":2000,"cnf":{"jkt":"\#(minter.thumbprint)"}}"#
            return Base64URL.encode(Array(#"{"typ":"at+jwt","alg":"HS256"}"#.utf8)) + "." + Base64URL.encode(Array(payload.utf8)) + ".c2ln"
        }
        func proof(for token: String) throws -> String {
            try minter.proof(
                claims: #"{"jti":"same","htm":"POST","htu":"https://sync.example.com/authenticate","iat":1000,"ath":"\#(ProofMinter.ath(token))"}"#
            )
        }
        let stranger = token(sub: "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb")
        let strangerProof = try proof(for: stranger)
        do {
            _ = try await authenticator.authenticate(
                authorization: ["DPoP " + stranger],
                proofHeaders: [strangerProof],
                method: "POST",
                path: "/authenticate"
            )
            Issue.record("accepted another account's token")
        } catch {
            #expect(error.code == .invalidToken)
        }
        let good = token(sub: owner.string)
        let goodProof = try proof(for: good)
        _ = try await authenticator.authenticate(authorization: ["DPoP " + good], proofHeaders: [goodProof], method: "POST", path: "/authenticate")
        do {
            _ = try await authenticator.authenticate(
                authorization: ["DPoP " + good],
                proofHeaders: [goodProof],
                method: "POST",
                path: "/authenticate"
            )
            Issue.record("accepted a replayed proof")
        } catch {
            #expect(error.code == .invalidDPoPProof)
            #expect(error.message == "DPoP proof replayed")
        }
    }
}
