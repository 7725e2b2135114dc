import ByteEncodings
import Crypto

/// Why a multikey, `did:key` or legacy key string could not be decoded.
package enum KeyDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    case notDIDKey
    case multibase(Multibase.DecodingError)
    case missingMulticodec
    case unsupportedKeyType(UInt64)
    case invalidKey(String)

    package var description: String {
        switch self {
        case .notDIDKey: "not a did:key identifier"
        case .multibase(let error): error.description
        case .missingMulticodec: "key has no valid multicodec prefix"
        case .unsupportedKeyType(let code): "unsupported key type (multicodec 0x\(String(code, radix: 16)))"
        case .invalidKey(let reason): "invalid public key: \(reason)"
        }
    }
}

extension PublicKey {
    /// Decodes a Multikey `publicKeyMultibase` (`z` + base58btc(multicodec varint ‖ compressed point)).
    package init(multikey: String) throws(KeyDecodingError) {
        let bytes: [UInt8]
        do {
            bytes = try Multibase.decode(multikey)
        } catch {
            throw .multibase(error)
        }
        // Multiformats caps varints at 9 bytes (63 bits).
        guard let (code, length) = try? LEB128.decodeUnsigned(bytes, maxLength: 9) else { throw .missingMulticodec }
        try self.init(multicodec: code, keyBytes: Array(bytes[length...]))
    }

    /// Decodes `did:key:z…`.
    package init(didKey: String) throws(KeyDecodingError) {
        let prefix = "did:key:"
        guard didKey.hasPrefix(prefix) else { throw .notDIDKey }
        try self.init(multikey: String(didKey.dropFirst(prefix.count)))
    }

    /// Decodes a compressed point for a multicodec key type.
    package init(multicodec: UInt64, keyBytes: [UInt8]) throws(KeyDecodingError) {
        guard keyBytes.count == 33 else { throw .invalidKey("expected a 33-byte compressed point, got \(keyBytes.count) bytes") }
        switch multicodec {
        case 0xE7:
            self = .secp256k1(try Self.secp256k1(keyBytes))
        case 0x1200:
            self = .p256(try Self.p256(keyBytes))
        default:
            throw .unsupportedKeyType(multicodec)
        }
    }

    /// Legacy `EcdsaSecp256k1VerificationKey2019` / `EcdsaSecp256r1VerificationKey2019` values:
    /// base58btc of the raw point with no multicodec prefix (uncompressed per the DID spec; compressed tolerated).
    package init(legacyMultibase: String, curveType: String) throws(KeyDecodingError) {
        let bytes: [UInt8]
        do {
            bytes = try Multibase.decode(legacyMultibase)
        } catch {
            throw .multibase(error)
        }
        switch curveType {
        case "EcdsaSecp256k1VerificationKey2019":
            self = .secp256k1(try Self.secp256k1(bytes))
        case "EcdsaSecp256r1VerificationKey2019":
            self = .p256(try Self.p256(bytes))
        default:
            throw .invalidKey("unknown verification method type \(curveType)")
        }
    }

    /// `did:key:z…` for this key.
    package var didKey: String { "did:key:" + multikey }

    /// Multikey encoding, as in DID documents.
    package var multikey: String {
        Multibase.encodeBase58btc(LEB128.encodeUnsigned(multicodec) + compressedRepresentation)
    }

    private static func secp256k1(_ bytes: [UInt8]) throws(KeyDecodingError) -> Secp256k1PublicKey {
        do {
            return try Secp256k1PublicKey(sec1: bytes)
        } catch {
            throw .invalidKey("secp256k1 point rejected (\(error))")
        }
    }

    private static func p256(_ bytes: [UInt8]) throws(KeyDecodingError) -> P256.Signing.PublicKey {
        do {
            switch bytes.count {
            case 33: return try P256.Signing.PublicKey(compressedRepresentation: bytes)
            case 65: return try P256.Signing.PublicKey(x963Representation: bytes)
            default: throw KeyDecodingError.invalidKey("P-256 point must be 33 or 65 bytes")
            }
        } catch {
            throw .invalidKey("P-256 point rejected")
        }
    }
}
