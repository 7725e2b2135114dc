import ByteEncodings
import Foundation
import Testing

@testable import ATProto

/// Mutates fixture tokens and proofs byte by byte: the verifiers must answer with errors, never crash,
/// and never accept a changed token.
@Suite("Token and proof fuzzing", .enabled(if: Fixtures.available, "needs ../shared/fixtures"))
struct TokenFuzzTests {
    private static func mutations(of token: String, seed: UInt64, count: Int) -> [String] {
        var state = seed
        func next() -> UInt64 {
            // xorshift64: deterministic, so failures reproduce.
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        let alphabet = Array("AZaz09-_.=+/ {}\"\u{0}é".unicodeScalars)
        var results: [String] = []
        let bytes = Array(token.unicodeScalars)
        for _ in 0..<count {
            var mutated = bytes
            switch next() % 4 {
            case 0:
                mutated[Int(next() % UInt64(mutated.count))] = alphabet[Int(next() % UInt64(alphabet.count))]
            case 1:
                mutated.remove(at: Int(next() % UInt64(mutated.count)))
            case 2:
                mutated.insert(alphabet[Int(next() % UInt64(alphabet.count))], at: Int(next() % UInt64(mutated.count)))
            default:
                mutated = Array(mutated.prefix(Int(next() % UInt64(mutated.count))))
            }
            var string = ""
            string.unicodeScalars.append(contentsOf: mutated)
            if string != token { results.append(string) }
        }
        return results
    }

    @Test func serviceAuthTokens() async throws {
        let fixtures = try ServiceAuthFixtures()
        let valid = fixtures.tokens.filter { $0.expect == "valid" }
        var checked = 0
        for (index, token) in valid.enumerated() {
            let (verifier, _) = try await fixtures.verifier(owner: token.owner)
            for mutated in Self.mutations(of: token.token, seed: UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15, count: 60) {
                do {
                    let verified = try await verifier.verify(token: mutated, lexiconMethod: fixtures.context.lxm)
                    // Only a change that leaves the decoded bytes identical could pass; base64url strictness rules that out.
                    Issue.record("mutated token accepted: jti \(verified.jti)")
                } catch {
                    checked += 1
                }
            }
        }
        #expect(checked > 400)
    }

    @Test func parsersNeverCrash() throws {
        let fixtures = try ServiceAuthFixtures()
        let samples =
            fixtures.tokens.prefix(10).map(\.token) + [
                "did:key:zQ3shYMV9Ma4HPTnyCxPBwjL4Gia9e5tVGnTdGZEhFpjxstAW", "xyz.groundmist.sync.authenticate",
                "https://sync.example.com/authenticate",
            ]
        for (index, sample) in samples.enumerated() {
            for mutated in Self.mutations(of: sample, seed: UInt64(index + 77), count: 100) {
                _ = try? CompactJWS(mutated)
                _ = try? UnverifiedAccessToken(decoding: mutated)
                _ = try? PublicKey(didKey: mutated)
                _ = try? PublicKey(multikey: mutated)
                _ = try? DID(mutated)
                _ = try? NSID(mutated)
                _ = try? Handle(mutated)
                _ = try? NamespacePrefix(mutated)
                _ = HTU.normalize(mutated)
                _ = try? Base58.decode(mutated)
                _ = Base64URL.decode(mutated)
                _ = JSONValue.object(from: Array(mutated.utf8))
                if let did = try? DID("did:plc:byrelw3cta3ceqlbeymyqv5q") {
                    _ = try? DIDDocument(json: Array(mutated.utf8), expectedDID: did)
                }
            }
        }
    }
}
