/// Arithmetic modulo an odd 256-bit modulus m > 2^255, in Montgomery form (R = 2^256).
///
/// One implementation serves both secp256k1 moduli (the field prime p and the group order n).
/// Values passed to `multiply`, `add` and `subtract` must already be reduced (< m).
struct MontgomeryModulus: Sendable {
    let modulus: UInt256
    /// -m⁻¹ mod 2^64.
    private let mPrime: UInt64
    /// R² mod m, for conversion into Montgomery form.
    private let rSquared: UInt256
    /// R mod m: the number one in Montgomery form.
    let montgomeryOne: UInt256

    init(modulus: UInt256) {
        precondition(modulus.isOdd && modulus.w3 >> 63 == 1, "modulus must be odd and above 2^255")
        self.modulus = modulus
        // Newton iteration doubles the correct low bits each step: 1 → 64 bits in six steps.
        var inverse: UInt64 = 1
        for _ in 0..<6 {
            inverse = inverse &* (2 &- modulus.w0 &* inverse)
        }
        mPrime = 0 &- inverse
        // 2^256 mod m = 2^256 - m, because m > 2^255.
        let rModM = UInt256.zero.subtractingReportingOverflow(modulus).0
        montgomeryOne = rModM
        var value = rModM
        for _ in 0..<256 {
            value = Self.addMod(value, value, modulus)
        }
        rSquared = value
    }

    private static func addMod(_ a: UInt256, _ b: UInt256, _ m: UInt256) -> UInt256 {
        let (sum, carry) = a.addingReportingOverflow(b)
        if carry || m <= sum {
            return sum.subtractingReportingOverflow(m).0
        }
        return sum
    }

    func add(_ a: UInt256, _ b: UInt256) -> UInt256 {
        Self.addMod(a, b, modulus)
    }

    func subtract(_ a: UInt256, _ b: UInt256) -> UInt256 {
        let (difference, borrow) = a.subtractingReportingOverflow(b)
        return borrow ? difference.addingReportingOverflow(modulus).0 : difference
    }

    /// Reduces any 256-bit value (< 2m, which holds for every value < 2^256 here).
    func reduce(_ a: UInt256) -> UInt256 {
        modulus <= a ? a.subtractingReportingOverflow(modulus).0 : a
    }

    /// a·b·R⁻¹ mod m (CIOS Montgomery multiplication, unrolled: this is the hot loop of verification).
    func multiply(_ a: UInt256, _ b: UInt256) -> UInt256 {
        var t: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        t = round(t, a, b.w0)
        t = round(t, a, b.w1)
        t = round(t, a, b.w2)
        t = round(t, a, b.w3)
        let result = UInt256(w0: t.0, w1: t.1, w2: t.2, w3: t.3)
        if t.4 != 0 || modulus <= result {
            return result.subtractingReportingOverflow(modulus).0
        }
        return result
    }

    /// One outer iteration of CIOS: t += a·bi, then add a multiple of m and shift one limb right.
    @inline(__always)
    private func round(
        _ t: (UInt64, UInt64, UInt64, UInt64, UInt64),
        _ a: UInt256,
        _ bi: UInt64
    ) -> (UInt64, UInt64, UInt64, UInt64, UInt64) {
        var carry: UInt64
        var t0: UInt64
        var t1: UInt64
        var t2: UInt64
        var t3: UInt64
        (carry, t0) = Self.multiplyAdd(a.w0, bi, t.0, 0)
        (carry, t1) = Self.multiplyAdd(a.w1, bi, t.1, carry)
        (carry, t2) = Self.multiplyAdd(a.w2, bi, t.2, carry)
        (carry, t3) = Self.multiplyAdd(a.w3, bi, t.3, carry)
        let (t4, overflow4) = t.4.addingReportingOverflow(carry)
        let t5: UInt64 = overflow4 ? 1 : 0

        let factor = t0 &* mPrime
        (carry, _) = Self.multiplyAdd(factor, modulus.w0, t0, 0)
        (carry, t0) = Self.multiplyAdd(factor, modulus.w1, t1, carry)
        (carry, t1) = Self.multiplyAdd(factor, modulus.w2, t2, carry)
        (carry, t2) = Self.multiplyAdd(factor, modulus.w3, t3, carry)
        let (sum3, overflow3) = t4.addingReportingOverflow(carry)
        return (t0, t1, t2, sum3, t5 &+ (overflow3 ? 1 : 0))
    }

    /// (high, low) of a·b + c + d; cannot overflow 128 bits.
    @inline(__always)
    private static func multiplyAdd(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) -> (UInt64, UInt64) {
        let product = a.multipliedFullWidth(by: b)
        let (low1, overflow1) = product.low.addingReportingOverflow(c)
        let (low2, overflow2) = low1.addingReportingOverflow(d)
        return (product.high &+ (overflow1 ? 1 : 0) &+ (overflow2 ? 1 : 0), low2)
    }

    func square(_ a: UInt256) -> UInt256 { multiply(a, a) }

    func toMontgomery(_ a: UInt256) -> UInt256 { multiply(reduce(a), rSquared) }

    func fromMontgomery(_ a: UInt256) -> UInt256 { multiply(a, .one) }

    /// base^exponent for a Montgomery-form base; the exponent is an ordinary integer.
    func power(_ base: UInt256, _ exponent: UInt256) -> UInt256 {
        var result = montgomeryOne
        for index in stride(from: 255, through: 0, by: -1) {
            result = square(result)
            if exponent.bit(index) {
                result = multiply(result, base)
            }
        }
        return result
    }

    /// Inverse by Fermat's little theorem (m is prime); zero maps to zero.
    func inverse(_ a: UInt256) -> UInt256 {
        power(a, modulus.subtractingReportingOverflow(UInt256(w0: 2, w1: 0, w2: 0, w3: 0)).0)
    }
}
