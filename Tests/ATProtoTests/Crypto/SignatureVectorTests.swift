import ByteEncodings
import Crypto
import Foundation
import Testing

@testable import ATProto

/// Wycheproof P1363 files: `testGroups[].publicKey.uncompressed` and `tests[]`.
private struct WycheproofFile: Decodable {
    struct Group: Decodable {
        struct Key: Decodable { let uncompressed: String }
        struct Case: Decodable {
            let tcId: Int
            let msg: String
            let sig: String
            let result: String
        }
        let publicKey: Key
        let tests: [Case]
    }
    let testGroups: [Group]
}

private struct InteropSignature: Decodable {
    let messageBase64: String
    let algorithm: String
    let publicKeyDid: String
    let publicKeyMultibase: String
    let signatureBase64: String
    let validSignature: Bool
    let tags: [String]
}

/// Standard base64 without padding, as the interop file writes it.
private func decodeUnpaddedBase64(_ text: String) -> [UInt8]? {
    let padded = text + String(repeating: "=", count: (4 - text.count % 4) % 4)
    return Data(base64Encoded: padded).map(Array.init)
}

/// s > n/2 for a 64-byte r‖s signature on the given curve.
private func isHighS(_ signature: [UInt8], halfOrderHex: String) -> Bool {
    guard signature.count == 64, let half = Hex.decode(halfOrderHex) else { return false }
    return half.lexicographicallyPrecedes(signature[32...])
}

@Suite("Signature vectors", .enabled(if: Fixtures.available, "needs ../shared/fixtures"))
struct SignatureVectorTests {
    static let k1Half = "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0"
    static let r1Half = "7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8"

    @Test func wycheproofSecp256k1BothModes() throws {
        let file = try Fixtures.decode(WycheproofFile.self, "wycheproof/testvectors_v1/ecdsa_secp256k1_sha256_p1363_test.json")
        var total = 0
        var strictAccepted = 0
        for group in file.testGroups {
            let keyBytes = try #require(Hex.decode(group.publicKey.uncompressed))
            let key = try Secp256k1PublicKey(sec1: keyBytes)
            for test in group.tests {
                let message = try #require(Hex.decode(test.msg))
                let signature = try #require(Hex.decode(test.sig))
                let expected = test.result == "valid"
                let tolerant = key.isValidSignature(signature, for: message, requireLowS: false)
                let strict = key.isValidSignature(signature, for: message, requireLowS: true)
                #expect(tolerant == expected, "tcId \(test.tcId) tolerant")
                #expect(strict == (expected && !isHighS(signature, halfOrderHex: Self.k1Half)), "tcId \(test.tcId) strict")
                total += 1
                if strict { strictAccepted += 1 }
            }
        }
        #expect(total == 252)
        #expect(strictAccepted == 167 - 72)
    }

    @Test func wycheproofP256BothModes() throws {
        let file = try Fixtures.decode(WycheproofFile.self, "wycheproof/testvectors_v1/ecdsa_secp256r1_sha256_p1363_test.json")
        var total = 0
        var strictAccepted = 0
        for group in file.testGroups {
            let raw = try #require(Hex.decode(group.publicKey.uncompressed))
            let key = PublicKey.p256(try P256.Signing.PublicKey(x963Representation: raw))
            for test in group.tests {
                let message = try #require(Hex.decode(test.msg))
                let signature = try #require(Hex.decode(test.sig))
                let expected = test.result == "valid"
                #expect(key.isValidSignature(signature, for: message, requireLowS: false) == expected, "tcId \(test.tcId) tolerant")
                let strict = key.isValidSignature(signature, for: message, requireLowS: true)
                #expect(strict == (expected && !isHighS(signature, halfOrderHex: Self.r1Half)), "tcId \(test.tcId) strict")
                total += 1
                if strict { strictAccepted += 1 }
            }
        }
        #expect(total == 262)
        #expect(strictAccepted == 173 - 70)
    }

    @Test func interopSignatureFixtures() throws {
        let fixtures = try Fixtures.decode([InteropSignature].self, "interop/crypto/signature-fixtures.json")
        #expect(fixtures.count == 6)
        for fixture in fixtures {
            let key = try PublicKey(didKey: fixture.publicKeyDid)
            #expect(key.jwtAlgorithm == fixture.algorithm)
            let message = try #require(decodeUnpaddedBase64(fixture.messageBase64))
            let signature = try #require(decodeUnpaddedBase64(fixture.signatureBase64))
            let strict = key.isValidSignature(signature, for: message, requireLowS: true)
            let tolerant = key.isValidSignature(signature, for: message, requireLowS: false)
            #expect(strict == fixture.validSignature, "\(fixture.algorithm) \(fixture.tags)")
            if fixture.tags.contains("high-s") {
                #expect(tolerant, "high-S is mathematically valid")
            } else if fixture.tags.contains("der-encoded") {
                #expect(!tolerant, "DER never verifies")
            } else {
                #expect(tolerant)
            }
            // Quirk of this file: publicKeyMultibase has no multicodec prefix, so a Multikey parser must refuse it.
            #expect(throws: KeyDecodingError.self) { try PublicKey(multikey: fixture.publicKeyMultibase) }
            // It is z + base58btc of the compressed key itself.
            #expect(try Multibase.decode(fixture.publicKeyMultibase) == key.compressedRepresentation)
        }
    }

    @Test func w3cDidKeyK256DerivedFromPrivateKeys() throws {
        struct Entry: Decodable {
            let privateKeyBytesHex: String
            let publicDidKey: String
        }
        let entries = try Fixtures.decode([Entry].self, "interop/crypto/w3c_didkey_K256.json")
        #expect(entries.count == 5)
        for entry in entries {
            let scalarBytes = try #require(Hex.decode(entry.privateKeyBytesHex))
            let scalar = try #require(UInt256(bigEndian: scalarBytes))
            let point = try #require(Secp256k1.multiplyGenerator(scalar).affine)
            let derived = PublicKey.secp256k1(Secp256k1PublicKey(validatedX: point.x, y: point.y))
            #expect(derived.didKey == entry.publicDidKey)
            #expect(try PublicKey(didKey: entry.publicDidKey) == derived)
        }
    }

    @Test func w3cDidKeyP256DerivedFromPrivateKey() throws {
        struct Entry: Decodable {
            let privateKeyBytesBase58: String
            let publicDidKey: String
        }
        let entries = try Fixtures.decode([Entry].self, "interop/crypto/w3c_didkey_P256.json")
        #expect(entries.count == 1)
        for entry in entries {
            let privateBytes = try Base58.decode(entry.privateKeyBytesBase58)
            let privateKey = try P256.Signing.PrivateKey(rawRepresentation: privateBytes)
            let derived = PublicKey.p256(privateKey.publicKey)
            #expect(derived.didKey == entry.publicDidKey)
            #expect(try PublicKey(didKey: entry.publicDidKey) == derived)
        }
    }
}

@Suite("Keys")
struct KeyTests {
    @Test func specMultikeyExamples() throws {
        let p256 = try PublicKey(multikey: "zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo")
        #expect(p256.jwtAlgorithm == "ES256")
        #expect(p256.multikey == "zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo")
        let k256 = try PublicKey(multikey: "zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc")
        #expect(k256.jwtAlgorithm == "ES256K")
        #expect(k256.multikey == "zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc")
    }

    @Test func legacyUncompressedEqualsMultikey() throws {
        let multikey = try PublicKey(multikey: "zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF")
        guard case .secp256k1(let key) = multikey else {
            Issue.record("expected a secp256k1 key")
            return
        }
        let legacy = Multibase.encodeBase58btc(key.uncompressedRepresentation)
        #expect(try PublicKey(legacyMultibase: legacy, curveType: "EcdsaSecp256k1VerificationKey2019") == multikey)
        #expect(throws: KeyDecodingError.self) { try PublicKey(legacyMultibase: legacy, curveType: "Ed25519VerificationKey2020") }
    }

    @Test func generatorRoundTripsThroughCompression() throws {
        let g = try #require(Secp256k1.generator.affine)
        let compressed = Secp256k1PublicKey(validatedX: g.x, y: g.y).compressedRepresentation
        #expect(Hex.encode(compressed) == "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
        let parsed = try Secp256k1PublicKey(sec1: compressed)
        #expect(parsed.y == g.y)
        // 2G computed by doubling and by addition agree.
        let twoG = Secp256k1.generator.doubled().affine
        let viaAdd = Secp256k1.generator.adding(Secp256k1.generator).affine
        #expect(twoG?.x == viaAdd?.x)
        #expect(twoG?.y == viaAdd?.y)
        // n·G is infinity; G + (−G) is infinity.
        #expect(Secp256k1.multiplyGenerator(Secp256k1.n).isInfinity)
        var negated = Secp256k1.generator
        negated.y = Secp256k1.field.subtract(.zero, negated.y)
        #expect(Secp256k1.generator.adding(negated).isInfinity)
    }

    @Test func rejectsBadPoints() throws {
        // x = 5: 5³ + 7 = 132 is not a square mod p, so no point has this x.
        var notOnCurve = [UInt8](repeating: 0, count: 33)
        notOnCurve[0] = 2
        notOnCurve[32] = 5
        #expect(throws: Secp256k1PublicKey.ParseError.notOnCurve) { try Secp256k1PublicKey(sec1: notOnCurve) }
        var tooBig = [UInt8](repeating: 0xFF, count: 33)
        tooBig[0] = 3
        #expect(throws: Secp256k1PublicKey.ParseError.coordinateOutOfRange) { try Secp256k1PublicKey(sec1: tooBig) }
        #expect(throws: Secp256k1PublicKey.ParseError.invalidPrefix(5)) { try Secp256k1PublicKey(sec1: [5] + [UInt8](repeating: 1, count: 32)) }
        #expect(throws: Secp256k1PublicKey.ParseError.invalidLength(32)) { try Secp256k1PublicKey(sec1: [UInt8](repeating: 2, count: 32)) }
        // Uncompressed G with y changed is off the curve.
        let g = try #require(Secp256k1.generator.affine)
        var bad = [4] + g.x.bigEndianBytes + g.y.bigEndianBytes
        bad[64] ^= 1
        #expect(throws: Secp256k1PublicKey.ParseError.notOnCurve) { try Secp256k1PublicKey(sec1: bad) }
    }

    @Test func multikeyMalformedInputs() {
        let cases = [
            "", "z", "Q3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc", "zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJw",
            "z0000", "zzzzzzzzzzzzzzzzzzzzz", "did:key:", "did:key:zQ3s", "did:web:example.com", "z\u{1F4A9}",
        ]
        for value in cases {
            #expect(throws: KeyDecodingError.self, "\(value)") {
                if value.hasPrefix("did:") { _ = try PublicKey(didKey: value) } else { _ = try PublicKey(multikey: value) }
            }
        }
        // Unknown multicodec (ed25519-pub 0xed) is refused by name.
        let ed = Multibase.encodeBase58btc(LEB128.encodeUnsigned(0xED) + [UInt8](repeating: 1, count: 32))
        #expect(throws: KeyDecodingError.invalidKey("expected a 33-byte compressed point, got 32 bytes")) { try PublicKey(multikey: ed) }
        let ed33 = Multibase.encodeBase58btc(LEB128.encodeUnsigned(0xED) + [UInt8](repeating: 2, count: 33))
        #expect(throws: KeyDecodingError.unsupportedKeyType(0xED)) { try PublicKey(multikey: ed33) }
    }

    @Test func signatureEdgeCases() throws {
        let key = try PublicKey(multikey: "zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc")
        let message = Array("hello".utf8)
        #expect(!key.isValidSignature([UInt8](repeating: 0, count: 64), for: message, requireLowS: false))
        #expect(!key.isValidSignature([UInt8](repeating: 0xFF, count: 64), for: message, requireLowS: false))
        #expect(!key.isValidSignature([UInt8](repeating: 1, count: 63), for: message, requireLowS: false))
        #expect(!key.isValidSignature([], for: message, requireLowS: false))
    }
}
