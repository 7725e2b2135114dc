import Crypto
package import Foundation

extension Secp256k1PublicKey {
    /// Verifies an ECDSA-SHA256 signature given as 64-byte `r‖s` over `message`.
    ///
    /// - Parameter requireLowS: atproto requires s ≤ n/2; pass false for the tolerant mode.
    package func isValidSignature(_ signature: some Collection<UInt8>, for message: some DataProtocol, requireLowS: Bool) -> Bool {
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
        let point = Secp256k1.linearCombination(u1, u2, q: q)
        // Accept iff affine x ≡ r (mod n). Since x < p < 2n, x is either r or r + n (when r + n < p).
        if point.hasAffineX(r) { return true }
        let (rPlusN, overflow) = r.addingReportingOverflow(n)
        return !overflow && rPlusN < Secp256k1.p && point.hasAffineX(rPlusN)
    }
}
