/// IEEE 754 half-precision helpers. Written by hand because `Float16` is unavailable on some platforms
/// (macOS on Intel), and CBOR only needs the conversion to a wider float.
enum CBORHalf {
    /// The exact `Float` a half-precision bit pattern denotes.
    static func float(fromBits bits: UInt16) -> Float {
        let negative = bits & 0x8000 != 0
        let exponent = Int((bits >> 10) & 0x1f)
        let mantissa = Float(bits & 0x03ff)
        let magnitude: Float
        switch exponent {
        case 0: magnitude = mantissa * 0x1p-24
        case 31: magnitude = mantissa == 0 ? .infinity : .nan
        default: magnitude = (1024 + mantissa) * Float(sign: .plus, exponent: exponent - 25, significand: 1)
        }
        return negative ? -magnitude : magnitude
    }
}
