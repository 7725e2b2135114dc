import ByteEncodings
import Crypto
import Foundation

/// P-256 ECDSA verification via swift-crypto, plus the atproto low-S rule that swift-crypto lacks.
enum P256Verification {
    /// n/2 for P-256, big-endian.
    static let halfOrder: [UInt8] = Hex.decode("7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8") ?? []

    static func isValidSignature(
        _ signature: some Collection<UInt8>,
        for message: some DataProtocol,
        key: P256.Signing.PublicKey,
        requireLowS: Bool
    ) -> Bool {
        let bytes = Array(signature)
        guard bytes.count == 64 else { return false }
        // Big-endian byte strings of equal length compare like the numbers they encode.
        if requireLowS && halfOrder.lexicographicallyPrecedes(bytes[32..<64]) {
            return false
        }
        guard let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: bytes) else { return false }
        return key.isValidSignature(parsed, for: message)
    }
}
