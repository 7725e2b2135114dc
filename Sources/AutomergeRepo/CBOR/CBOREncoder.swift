/// Encodes `CBORValue`s with definite lengths and, by default, the shortest heads (docs/repo-protocol.md §1.2).
///
/// The defaults follow the spec's advice for bytes going to JS peers: an integer above 32 bits is written
/// as float64 (what cbor-x itself does for such numbers), never as a `0x1b` 64-bit head, which cbor-x
/// would decode into a `BigInt`.
package struct CBOREncoder: Sendable {
    /// How map heads are written.
    package enum MapHeaderStyle: Sendable, Hashable {
        /// Shortest form (`a5` for five entries). Any CBOR decoder, cbor-x included, accepts it.
        case shortest
        /// Always a 16-bit count (`b9 00 05`), as cbor-x writes maps; reproduces the reference server's
        /// bytes exactly. Maps with more than 65 535 entries fall back to the shortest form.
        case cborX
    }

    /// How an integer that does not fit in 32 bits is written.
    package enum LargeIntegerStyle: Sendable, Hashable {
        /// As float64, like cbor-x; values above 2^53 lose precision, as they would in JS anyway.
        case float64
        /// As a 64-bit CBOR integer (`0x1b` / `0x3b`), for non-JS consumers.
        case integer
    }

    package var mapHeaderStyle: MapHeaderStyle
    package var largeIntegerStyle: LargeIntegerStyle

    package init(mapHeaderStyle: MapHeaderStyle = .shortest, largeIntegerStyle: LargeIntegerStyle = .float64) {
        self.mapHeaderStyle = mapHeaderStyle
        self.largeIntegerStyle = largeIntegerStyle
    }

    package func encode(_ value: CBORValue) -> [UInt8] {
        var output: [UInt8] = []
        append(value, to: &output)
        return output
    }

    private func append(_ value: CBORValue, to output: inout [UInt8]) {
        switch value {
        case .unsigned(let n):
            if n > UInt64(UInt32.max), largeIntegerStyle == .float64 {
                appendFloat64(Double(n), to: &output)
            } else {
                appendHead(major: 0, argument: n, to: &output)
            }
        case .negative(let n):
            if n > UInt64(UInt32.max), largeIntegerStyle == .float64 {
                appendFloat64(-1 - Double(n), to: &output)
            } else {
                appendHead(major: 1, argument: n, to: &output)
            }
        case .bytes(let bytes):
            appendHead(major: 2, argument: UInt64(bytes.count), to: &output)
            output.append(contentsOf: bytes)
        case .text(let text):
            let utf8 = Array(text.utf8)
            appendHead(major: 3, argument: UInt64(utf8.count), to: &output)
            output.append(contentsOf: utf8)
        case .array(let items):
            appendHead(major: 4, argument: UInt64(items.count), to: &output)
            for item in items { append(item, to: &output) }
        case .map(let entries):
            if mapHeaderStyle == .cborX, entries.count <= Int(UInt16.max) {
                output.append(0xb9)
                output.append(UInt8(entries.count >> 8))
                output.append(UInt8(entries.count & 0xff))
            } else {
                appendHead(major: 5, argument: UInt64(entries.count), to: &output)
            }
            for entry in entries {
                append(entry.key, to: &output)
                append(entry.value, to: &output)
            }
        case .tagged(let tag, let inner):
            appendHead(major: 6, argument: tag, to: &output)
            append(inner, to: &output)
        case .bool(let flag):
            output.append(flag ? 0xf5 : 0xf4)
        case .null:
            output.append(0xf6)
        case .undefined:
            output.append(0xf7)
        case .simple(let n):
            if n < 24 {
                output.append(0xe0 | n)
            } else {
                output.append(0xf8)
                output.append(n)
            }
        case .float16(let bits):
            output.append(0xf9)
            appendBigEndian(UInt64(bits), byteCount: 2, to: &output)
        case .float32(let f):
            output.append(0xfa)
            appendBigEndian(UInt64(f.bitPattern), byteCount: 4, to: &output)
        case .float64(let d):
            appendFloat64(d, to: &output)
        }
    }

    private func appendFloat64(_ value: Double, to output: inout [UInt8]) {
        output.append(0xfb)
        appendBigEndian(value.bitPattern, byteCount: 8, to: &output)
    }

    /// Shortest-form head for a major type and argument.
    private func appendHead(major: UInt8, argument: UInt64, to output: inout [UInt8]) {
        let prefix = major << 5
        switch argument {
        case 0..<24:
            output.append(prefix | UInt8(argument))
        case 24...0xff:
            output.append(prefix | 24)
            output.append(UInt8(argument))
        case 0x100...0xffff:
            output.append(prefix | 25)
            appendBigEndian(argument, byteCount: 2, to: &output)
        case 0x1_0000...0xffff_ffff:
            output.append(prefix | 26)
            appendBigEndian(argument, byteCount: 4, to: &output)
        default:
            output.append(prefix | 27)
            appendBigEndian(argument, byteCount: 8, to: &output)
        }
    }

    private func appendBigEndian(_ value: UInt64, byteCount: Int, to output: inout [UInt8]) {
        for shift in stride(from: (byteCount - 1) * 8, through: 0, by: -8) {
            output.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }
}
