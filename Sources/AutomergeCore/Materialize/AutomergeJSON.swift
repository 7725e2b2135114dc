/// A JSON value and the package's one JSON writer. `serialized()` writes it exactly as the fixtures'
/// JSON views are (`NAME.json`): object keys sorted by code point (UTF-8 byte order), 2-space
/// indentation, `": "` and `","` separators, and a final newline. `compactLine()` writes one line
/// with members in the order given, for tool output that documents its field order (`inspect`).
/// Both write exact 64-bit integers, doubles in JavaScript's shortest round-trip form, non-finite
/// doubles as `null`, and non-ASCII characters unescaped.
package indirect enum AutomergeJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case array([AutomergeJSON])
    /// Members in any order: they are sorted when written.
    case object([(String, AutomergeJSON)])

    package static func == (lhs: AutomergeJSON, rhs: AutomergeJSON) -> Bool { lhs.serialized() == rhs.serialized() }

    /// The JSON text in the fixtures' layout, with a final newline.
    package func serialized() -> String {
        var output: [UInt8] = []
        write(to: &output, indent: 0)
        output.append(0x0a)
        return String(decoding: output, as: UTF8.self)
    }

    /// The JSON text on one line, no spaces, members in the order given, no final newline.
    package func compactLine() -> String {
        var output: [UInt8] = []
        write(to: &output, indent: nil)
        return String(decoding: output, as: UTF8.self)
    }

    /// `indent` nil: one line, members in the order given; otherwise the fixtures' layout.
    private func write(to output: inout [UInt8], indent: Int?) {
        switch self {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let value): output.append(contentsOf: (value ? "true" : "false").utf8)
        case .int(let value): output.append(contentsOf: String(value).utf8)
        case .uint(let value): output.append(contentsOf: String(value).utf8)
        case .double(let value): output.append(contentsOf: Self.javaScriptNumber(value).utf8)
        case .string(let value): Self.writeString(value, to: &output)
        case .array(let items):
            guard !items.isEmpty else {
                output.append(contentsOf: "[]".utf8)
                return
            }
            let inner = indent.map { $0 + 2 }
            output.append(UInt8(ascii: "["))
            for (position, item) in items.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                Self.newline(&output, inner)
                item.write(to: &output, indent: inner)
            }
            Self.newline(&output, indent)
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            guard !members.isEmpty else {
                output.append(contentsOf: "{}".utf8)
                return
            }
            let inner = indent.map { $0 + 2 }
            let ordered = indent == nil ? members : members.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            output.append(UInt8(ascii: "{"))
            for (position, member) in ordered.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                Self.newline(&output, inner)
                Self.writeString(member.0, to: &output)
                output.append(contentsOf: (indent == nil ? ":" : ": ").utf8)
                member.1.write(to: &output, indent: inner)
            }
            Self.newline(&output, indent)
            output.append(UInt8(ascii: "}"))
        }
    }

    /// A line break and indentation in the fixtures' layout; nothing on one line.
    private static func newline(_ output: inout [UInt8], _ indent: Int?) {
        guard let indent else { return }
        output.append(0x0a)
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent))
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    static func writeString(_ string: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): output.append(contentsOf: "\\\\".utf8)
            case 0x08: output.append(contentsOf: "\\b".utf8)
            case 0x0c: output.append(contentsOf: "\\f".utf8)
            case 0x0a: output.append(contentsOf: "\\n".utf8)
            case 0x0d: output.append(contentsOf: "\\r".utf8)
            case 0x09: output.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                output.append(contentsOf: "\\u00".utf8)
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0xf)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// JavaScript's `Number.prototype.toString` (ECMA-262 Number::toString) from the shortest
    /// round-trip digits; non-finite values become `null` as `JSON.stringify` writes them.
    static func javaScriptNumber(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == 0 { return "0" }
        let sign = value < 0 ? "-" : ""
        // Swift's description gives the shortest round-trip digits; only the layout differs.
        let text = Swift.abs(value).description
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        var digits: [Character] = []
        var point = 0
        var seenPoint = false
        for character in mantissa {
            if character == "." {
                seenPoint = true
            } else {
                digits.append(character)
                if !seenPoint { point += 1 }
            }
        }
        point += exponent
        while digits.first == "0" {
            digits.removeFirst()
            point -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        guard !digits.isEmpty else { return "0" }
        let k = digits.count
        let n = point
        let all = String(digits)
        if k <= n && n <= 21 { return sign + all + String(repeating: "0", count: n - k) }
        if 0 < n && n <= 21 { return sign + String(digits[0..<n]) + "." + String(digits[n...]) }
        if -6 < n && n <= 0 { return sign + "0." + String(repeating: "0", count: -n) + all }
        let e = n - 1
        let rest = k > 1 ? "." + String(digits[1...]) : ""
        return sign + String(digits[0]) + rest + "e" + (e >= 0 ? "+" : "-") + String(Swift.abs(e))
    }
}
