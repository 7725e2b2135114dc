import Crypto
import Foundation

extension Secp256k1PublicKey {
    /// Verifies an ECDSA-SHA256 signature given as 64-byte `r‖s` over `message`.
    ///
    /// - Parameter requireLowS: atproto requires s ≤ n/2; pass false for the tolerant mode.
    public func isValidSignature(_ signature: some Collection<UInt8>, for message: some DataProtocol, requireLowS: Bool) -> Bool {
        let digest = Array(SHA256.hash(data: message))
        return isValidSignature(signature, digest: digest, requireLowS: requireLowS)
    }

    /// Verification against a precomputed SHA-256 digest (32 bytes).
    func isValidSignature(_ signature: some Collection<UInt8>, digest: [UInt8], requireLowS: Bool) -> Bool {
        let bytes = Array(signature)
        guard bytes.count == 64,
            let r = UInt256(bigEndian: bytes[0..<32]),
            let s = UInt256(bigEndian: bytes[32..<64]),
            var e = UInt256(bigEndian: digest)
        else { return false }
        let n = Secp256k1.n
        guard !r.isZero, !s.isZero, r < n, s < n else { return false }
        if requireLowS && Secp256k1.halfN < s { return false }
        // bitlen(n) = 256, so the digest is used whole and reduced once.
        if n <= e { e = e.subtractingReportingOverflow(n).0 }

        let scalars = Secp256k1.scalars
        let w = scalars.inverse(scalars.toMontgomery(s))
        let u1 = scalars.fromMontgomery(scalars.multiply(scalars.toMontgomery(e), w))
        let u2 = scalars.fromMontgomery(scalars.multiply(scalars.toMontgomery(r), w))

        let q = Secp256k1.JacobianPoint(affineX: x, affineY: y)
        guard let point = Secp256k1.linearCombination(u1, u2, q: q).affine else { return false }
        // x < p < 2n, so one conditional subtraction reduces it mod n.
        return scalars.reduce(point.x) == r
    }
}
