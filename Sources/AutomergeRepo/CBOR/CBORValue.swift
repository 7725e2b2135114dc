/// One decoded CBOR data item (RFC 8949), kept close to the wire so that nothing is lost on a round trip.
///
/// Maps keep their entries in wire order (cbor-x writes keys in JS insertion order, and the reference
/// server's field order is part of what we reproduce). Floats keep their encoded width so that a value
/// re-encodes to the same bytes.
package indirect enum CBORValue: Sendable, Hashable {
    /// Major type 0: an unsigned integer.
    case unsigned(UInt64)
    /// Major type 1: the integer `-1 - n`, stored as `n` so the full range fits.
    case negative(UInt64)
    /// Major type 2: a byte string (indefinite-length input is joined).
    case bytes([UInt8])
    /// Major type 3: a text string, always valid UTF-8.
    case text(String)
    /// Major type 4.
    case array([CBORValue])
    /// Major type 5, entries in wire order; duplicate keys are kept as they came.
    case map([CBORMapEntry])
    /// Major type 6. Decoded so callers can see it, but the automerge-repo profile never uses tags.
    case tagged(tag: UInt64, value: CBORValue)
    /// `0xf4` / `0xf5`.
    case bool(Bool)
    /// `0xf6`.
    case null
    /// `0xf7`: what cbor-x writes for a JS property that is present but `undefined`.
    case undefined
    /// Any other simple value (major type 7). Only 0…19 and 32…255 are well-formed; the decoder never
    /// produces others, and callers must not build them.
    case simple(UInt8)
    /// Half precision, kept as its raw bits (lossless, and no `Float16` platform restrictions).
    case float16(bits: UInt16)
    /// Single precision.
    case float32(Float)
    /// Double precision: how cbor-x writes every non-32-bit-integer number, e.g. millisecond timestamps.
    case float64(Double)
}

/// One key/value pair of a CBOR map.
package struct CBORMapEntry: Sendable, Hashable {
    package var key: CBORValue
    package var value: CBORValue

    package init(key: CBORValue, value: CBORValue) {
        self.key = key
        self.value = value
    }

    /// Convenience for the usual text-keyed entry.
    package init(_ key: String, _ value: CBORValue) {
        self.init(key: .text(key), value: value)
    }
}

extension CBORValue {
    /// The text of a `.text` value.
    package var textValue: String? {
        if case .text(let string) = self { return string }
        return nil
    }

    /// The bytes of a `.bytes` value.
    package var bytesValue: [UInt8]? {
        if case .bytes(let bytes) = self { return bytes }
        return nil
    }

    /// The elements of an `.array` value.
    package var arrayValue: [CBORValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// The entries of a `.map` value.
    package var mapEntries: [CBORMapEntry]? {
        if case .map(let entries) = self { return entries }
        return nil
    }

    /// The value of a `.bool`.
    package var boolValue: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    /// `null` and `undefined` both mean "absent" to JS code (`x ?? default`), so callers treat them alike.
    package var isNullOrUndefined: Bool {
        switch self {
        case .null, .undefined: return true
        default: return false
        }
    }

    /// Any numeric item as a `Double`; JS has a single number type, so an integer and a float are equivalent.
    package var numericValue: Double? {
        switch self {
        case .unsigned(let n): return Double(n)
        case .negative(let n): return -1 - Double(n)
        case .float16(let bits): return Double(CBORHalf.float(fromBits: bits))
        case .float32(let f): return Double(f)
        case .float64(let d): return d
        default: return nil
        }
    }

    /// A short name of the item's kind, for error messages.
    package var kindName: String {
        switch self {
        case .unsigned: return "unsigned integer"
        case .negative: return "negative integer"
        case .bytes: return "byte string"
        case .text: return "text string"
        case .array: return "array"
        case .map: return "map"
        case .tagged: return "tagged value"
        case .bool: return "boolean"
        case .null: return "null"
        case .undefined: return "undefined"
        case .simple: return "simple value"
        case .float16, .float32, .float64: return "float"
        }
    }

    /// The last value stored under text key `key` in a map (JS object semantics: a later duplicate wins).
    package subscript(key: String) -> CBORValue? {
        guard let entries = mapEntries else { return nil }
        for entry in entries.reversed() where entry.key == .text(key) {
            return entry.value
        }
        return nil
    }
}
