import ByteEncodings

/// A 256-bit unsigned integer in four 64-bit limbs, least significant first.
///
/// Just enough arithmetic for ECDSA verification; all inputs are public, so nothing here tries to
/// be constant-time.
struct UInt256: Equatable, Sendable {
    var w0: UInt64
    var w1: UInt64
    var w2: UInt64
    var w3: UInt64

    static let zero = UInt256(w0: 0, w1: 0, w2: 0, w3: 0)
    static let one = UInt256(w0: 1, w1: 0, w2: 0, w3: 0)

    init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    /// Reads exactly 32 big-endian bytes; nil for any other length.
    init?(bigEndian bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        var limbs = [UInt64](repeating: 0, count: 4)
        for (offset, byte) in bytes.enumerated() {
            let limb = 3 - offset / 8
            limbs[limb] = limbs[limb] << 8 | UInt64(byte)
        }
        self.init(w0: limbs[0], w1: limbs[1], w2: limbs[2], w3: limbs[3])
    }

    /// Parses 64 hex digits (for constants); traps on malformed literals, which are programmer errors.
    init(hex: StaticString) {
        let text = hex.withUTF8Buffer { String(decoding: $0, as: UTF8.self) }
        guard let bytes = Hex.decode(text), let value = UInt256(bigEndian: bytes) else {
            preconditionFailure("invalid UInt256 hex constant")
        }
        self = value
    }

    var bigEndianBytes: [UInt8] {
        var output = [UInt8]()
        output.reserveCapacity(32)
        for limb in [w3, w2, w1, w0] {
            for shift in stride(from: 56, through: 0, by: -8) {
                output.append(UInt8(truncatingIfNeeded: limb >> UInt64(shift)))
            }
        }
        return output
    }

    subscript(index: Int) -> UInt64 {
        get {
            switch index {
            case 0: w0
            case 1: w1
            case 2: w2
            default: w3
            }
        }
        set {
            switch index {
            case 0: w0 = newValue
            case 1: w1 = newValue
            case 2: w2 = newValue
            default: w3 = newValue
            }
        }
    }

    var isZero: Bool { (w0 | w1 | w2 | w3) == 0 }
    var isOdd: Bool { w0 & 1 == 1 }

    /// Bit `index` (0 = least significant).
    func bit(_ index: Int) -> Bool {
        self[index >> 6] >> UInt64(index & 63) & 1 == 1
    }

    static func < (lhs: UInt256, rhs: UInt256) -> Bool {
        if lhs.w3 != rhs.w3 { return lhs.w3 < rhs.w3 }
        if lhs.w2 != rhs.w2 { return lhs.w2 < rhs.w2 }
        if lhs.w1 != rhs.w1 { return lhs.w1 < rhs.w1 }
        return lhs.w0 < rhs.w0
    }

    static func <= (lhs: UInt256, rhs: UInt256) -> Bool { !(rhs < lhs) }

    /// Sum modulo 2^256 and the carry out.
    @inline(__always)
    func addingReportingOverflow(_ other: UInt256) -> (UInt256, Bool) {
        let (r0, c0) = w0.addingReportingOverflow(other.w0)
        let (s1, c1a) = w1.addingReportingOverflow(other.w1)
        let (r1, c1b) = s1.addingReportingOverflow(c0 ? 1 : 0)
        let (s2, c2a) = w2.addingReportingOverflow(other.w2)
        let (r2, c2b) = s2.addingReportingOverflow(c1a || c1b ? 1 : 0)
        let (s3, c3a) = w3.addingReportingOverflow(other.w3)
        let (r3, c3b) = s3.addingReportingOverflow(c2a || c2b ? 1 : 0)
        return (UInt256(w0: r0, w1: r1, w2: r2, w3: r3), c3a || c3b)
    }

    /// Difference modulo 2^256 and the borrow out.
    @inline(__always)
    func subtractingReportingOverflow(_ other: UInt256) -> (UInt256, Bool) {
        let (r0, b0) = w0.subtractingReportingOverflow(other.w0)
        let (s1, b1a) = w1.subtractingReportingOverflow(other.w1)
        let (r1, b1b) = s1.subtractingReportingOverflow(b0 ? 1 : 0)
        let (s2, b2a) = w2.subtractingReportingOverflow(other.w2)
        let (r2, b2b) = s2.subtractingReportingOverflow(b1a || b1b ? 1 : 0)
        let (s3, b3a) = w3.subtractingReportingOverflow(other.w3)
        let (r3, b3b) = s3.subtractingReportingOverflow(b2a || b2b ? 1 : 0)
        return (UInt256(w0: r0, w1: r1, w2: r2, w3: r3), b3a || b3b)
    }
}
