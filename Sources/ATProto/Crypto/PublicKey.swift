package import Crypto
package import Foundation

/// An atproto signing key: secp256k1 (`ES256K`) or P-256 (`ES256`).
package enum PublicKey: Sendable {
    case secp256k1(Secp256k1PublicKey)
    case p256(P256.Signing.PublicKey)

    /// The JWS `alg` that this key type verifies.
    package var jwtAlgorithm: String {
        switch self {
        case .secp256k1: "ES256K"
        case .p256: "ES256"
        }
    }

    /// The multicodec code of the key type (0xe7 secp256k1-pub, 0x1200 p256-pub).
    package var multicodec: UInt64 {
        switch self {
        case .secp256k1: 0xE7
        case .p256: 0x1200
        }
    }

    /// The 33-byte compressed SEC1 point.
    package var compressedRepresentation: [UInt8] {
        switch self {
        case .secp256k1(let key): key.compressedRepresentation
        case .p256(let key): Array(key.compressedRepresentation)
        }
    }

    /// ECDSA-SHA256 over `message`, signature as 64-byte `r‖s`; DER and other lengths never verify.
    package func isValidSignature(_ signature: some Collection<UInt8>, for message: some DataProtocol, requireLowS: Bool) -> Bool {
        switch self {
        case .secp256k1(let key): key.isValidSignature(signature, for: message, requireLowS: requireLowS)
        case .p256(let key): P256Verification.isValidSignature(signature, for: message, key: key, requireLowS: requireLowS)
        }
    }
}

extension PublicKey: Equatable {
    package static func == (lhs: PublicKey, rhs: PublicKey) -> Bool {
        lhs.multicodec == rhs.multicodec && lhs.compressedRepresentation == rhs.compressedRepresentation
    }
}
