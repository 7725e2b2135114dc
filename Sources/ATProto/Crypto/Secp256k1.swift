/// The secp256k1 curve (y² = x³ + 7), written out because swift-crypto does not provide it.
///
/// Verification only. Field elements inside points are kept in Montgomery form modulo p.
enum Secp256k1 {
    static let p = UInt256(hex: "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f")
    static let n = UInt256(hex: "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
    /// Largest s accepted by the low-S rule (n/2, rounded down).
    static let halfN = UInt256(hex: "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0")
    static let sqrtExponent = UInt256(hex: "3fffffffffffffffffffffffffffffffffffffffffffffffffffffffbfffff0c")

    static let field = MontgomeryModulus(modulus: p)
    static let scalars = MontgomeryModulus(modulus: n)

    static let seven = field.toMontgomery(UInt256(w0: 7, w1: 0, w2: 0, w3: 0))

    static let generator = JacobianPoint(
        affineX: UInt256(hex: "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"),
        affineY: UInt256(hex: "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8")
    )

    /// A point in Jacobian coordinates (x = X/Z², y = Y/Z³), Montgomery form; Z = 0 is infinity.
    struct JacobianPoint: Sendable {
        var x: UInt256
        var y: UInt256
        var z: UInt256

        static let infinity = JacobianPoint(x: field.montgomeryOne, y: field.montgomeryOne, z: .zero)

        var isInfinity: Bool { z.isZero }

        init(x: UInt256, y: UInt256, z: UInt256) {
            self.x = x
            self.y = y
            self.z = z
        }

        /// From ordinary affine coordinates, which must be reduced mod p.
        init(affineX: UInt256, affineY: UInt256) {
            self.init(x: field.toMontgomery(affineX), y: field.toMontgomery(affineY), z: field.montgomeryOne)
        }

        /// Ordinary affine coordinates, or nil for the point at infinity.
        var affine: (x: UInt256, y: UInt256)? {
            guard !isInfinity else { return nil }
            let f = Secp256k1.field
            let zInverse = f.inverse(z)
            let zInverse2 = f.square(zInverse)
            let zInverse3 = f.multiply(zInverse2, zInverse)
            return (f.fromMontgomery(f.multiply(x, zInverse2)), f.fromMontgomery(f.multiply(y, zInverse3)))
        }

        /// Doubling for a = 0 (EFD dbl-2009-l).
        func doubled() -> JacobianPoint {
            let f = Secp256k1.field
            if isInfinity || y.isZero { return .infinity }
            let a = f.square(x)
            let b = f.square(y)
            let c = f.square(b)
            let xPlusB = f.add(x, b)
            let d0 = f.subtract(f.subtract(f.square(xPlusB), a), c)
            let d = f.add(d0, d0)
            let e = f.add(f.add(a, a), a)
            let ff = f.square(e)
            let x3 = f.subtract(ff, f.add(d, d))
            let c2 = f.add(c, c)
            let c4 = f.add(c2, c2)
            let c8 = f.add(c4, c4)
            let y3 = f.subtract(f.multiply(e, f.subtract(d, x3)), c8)
            let yz = f.multiply(y, z)
            return JacobianPoint(x: x3, y: y3, z: f.add(yz, yz))
        }

        /// General addition (EFD add-2007-bl), with the infinity, P = Q and P = -Q cases handled.
        /// When `other` has Z = 1 (G and Q in the verification loop) the Z₂ terms are skipped.
        func adding(_ other: JacobianPoint) -> JacobianPoint {
            let f = Secp256k1.field
            if isInfinity { return other }
            if other.isInfinity { return self }
            let otherIsAffine = other.z == f.montgomeryOne
            let z1z1 = f.square(z)
            let z2z2 = otherIsAffine ? f.montgomeryOne : f.square(other.z)
            let u1 = otherIsAffine ? x : f.multiply(x, z2z2)
            let u2 = f.multiply(other.x, z1z1)
            let s1 = otherIsAffine ? y : f.multiply(f.multiply(y, other.z), z2z2)
            let s2 = f.multiply(f.multiply(other.y, z), z1z1)
            let h = f.subtract(u2, u1)
            let rHalf = f.subtract(s2, s1)
            if h.isZero {
                return rHalf.isZero ? doubled() : .infinity
            }
            let h2 = f.add(h, h)
            let i = f.square(h2)
            let j = f.multiply(h, i)
            let r = f.add(rHalf, rHalf)
            let v = f.multiply(u1, i)
            let x3 = f.subtract(f.subtract(f.square(r), j), f.add(v, v))
            let s1j = f.multiply(s1, j)
            let y3 = f.subtract(f.multiply(r, f.subtract(v, x3)), f.add(s1j, s1j))
            // (Z1+Z2)² − Z1² − Z2² = 2·Z1·Z2.
            let z1z2 = otherIsAffine ? z : f.multiply(z, other.z)
            let z3 = f.multiply(f.add(z1z2, z1z2), h)
            return JacobianPoint(x: x3, y: y3, z: z3)
        }

        /// Whether the affine x-coordinate equals `candidate` (< p), without inverting Z: X = candidate·Z².
        func hasAffineX(_ candidate: UInt256) -> Bool {
            let f = Secp256k1.field
            return !isInfinity && f.multiply(f.toMontgomery(candidate), f.square(z)) == x
        }
    }

    /// u1·G + u2·Q in one double-and-add pass (Shamir's trick).
    static func linearCombination(_ u1: UInt256, _ u2: UInt256, q: JacobianPoint) -> JacobianPoint {
        let g = generator
        let gPlusQ = g.adding(q)
        var result = JacobianPoint.infinity
        for index in stride(from: 255, through: 0, by: -1) {
            result = result.doubled()
            switch (u1.bit(index), u2.bit(index)) {
            case (true, true): result = result.adding(gPlusQ)
            case (true, false): result = result.adding(g)
            case (false, true): result = result.adding(q)
            case (false, false): break
            }
        }
        return result
    }

    /// k·G; used by tests to derive public keys from fixture private keys.
    static func multiplyGenerator(_ k: UInt256) -> JacobianPoint {
        linearCombination(k, .zero, q: .infinity)
    }
}
