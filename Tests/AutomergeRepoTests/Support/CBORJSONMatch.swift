import AutomergeCore
import ByteEncodings
import TestSupport

@testable import AutomergeRepo

/// Compares a decoded CBOR item with the fixtures' cbor2 → JSON rendering: byte strings as lowercase hex,
/// `undefined` as the string `"<undefined>"`, CBOR floats as JSON literals with a fraction or exponent.
/// Returns `nil` when they match, or a path and reason when they do not.
func cborMismatch(_ value: CBORValue, _ json: JSONValue, path: String = "$") -> String? {
    switch (value, json) {
    case (.unsigned(let n), .number(let literal)):
        return literal == String(n) ? nil : "\(path): \(n) vs \(literal)"
    case (.negative(let n), .number(let literal)):
        let expected = n == UInt64.max ? "-18446744073709551616" : "-\(n + 1)"
        return literal == expected ? nil : "\(path): \(expected) vs \(literal)"
    case (.float16, .number(let literal)), (.float32, .number(let literal)), (.float64, .number(let literal)):
        guard literal.contains(where: { ".eE".contains($0) }), let expected = Double(literal),
            let actual = value.numericValue, actual == expected
        else { return "\(path): float \(value) vs \(literal)" }
        return nil
    case (.bytes(let bytes), .string(let hex)):
        return Hex.encode(bytes) == hex ? nil : "\(path): bytes \(Hex.encode(bytes)) vs \(hex)"
    case (.text(let text), .string(let string)):
        return text == string ? nil : "\(path): \"\(text)\" vs \"\(string)\""
    case (.undefined, .string("<undefined>")), (.null, .null):
        return nil
    case (.bool(let a), .bool(let b)):
        return a == b ? nil : "\(path): \(a) vs \(b)"
    case (.array(let items), .array(let expected)):
        guard items.count == expected.count else { return "\(path): \(items.count) items vs \(expected.count)" }
        for (index, pair) in zip(items, expected).enumerated() {
            if let mismatch = cborMismatch(pair.0, pair.1, path: "\(path)[\(index)]") { return mismatch }
        }
        return nil
    case (.map(let entries), .object(let expected)):
        guard entries.count == expected.count else { return "\(path): \(entries.count) entries vs \(expected.count)" }
        for (entry, (key, expectedValue)) in zip(entries, expected) {
            guard entry.key == .text(key) else { return "\(path): key \(entry.key) vs \(key) (order matters)" }
            if let mismatch = cborMismatch(entry.value, expectedValue, path: "\(path).\(key)") { return mismatch }
        }
        return nil
    default:
        return "\(path): \(value.kindName) vs \(json)"
    }
}

/// One random corruption of `bytes`: a bit flip, a byte overwrite, a truncation, an insertion or a deletion.
func mutate(_ bytes: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
    var out = bytes
    let steps = Int.random(in: 1...3, using: &rng)
    for _ in 0..<steps {
        let position = out.isEmpty ? 0 : Int.random(in: 0..<out.count, using: &rng)
        switch Int.random(in: 0..<5, using: &rng) {
        case 0 where !out.isEmpty: out[position] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
        case 1 where !out.isEmpty: out[position] = UInt8.random(in: 0...255, using: &rng)
        case 2: out = Array(out.prefix(position))
        case 3: out.insert(UInt8.random(in: 0...255, using: &rng), at: position)
        default: if !out.isEmpty { out.remove(at: position) }
        }
    }
    return out
}
