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
