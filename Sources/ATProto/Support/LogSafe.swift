/// Text taken from a request (a token's `typ` or `lxm`, a user agent, a client id, a path, an
/// address), made safe to put in a log line or an error message: printable ASCII is kept, a
/// backslash is doubled, and every other character — line breaks, terminal escapes, any non-ASCII
/// scalar such as a bidi override — is written as an escape (`\n`, `\u{1B}`), so no value can
/// start a fake log line or recolour the terminal. At most `maximumLength` characters of the
/// value are kept; the rest is counted, not shown.
///
/// Interpolate it (`"\(LogSafe(value))"`) or use `LogSafe.escape(_:)`.
package struct LogSafe: Sendable, CustomStringConvertible {
    /// Characters of the original value kept before the rest is elided.
    package static let maximumLength = 120

    package let description: String

    package init(_ value: String?, limit: Int = LogSafe.maximumLength) {
        description = value.map { Self.escape($0, limit: limit) } ?? "-"
    }

    package init(_ value: Substring, limit: Int = LogSafe.maximumLength) {
        self.init(String(value), limit: limit)
    }

    package static func escape(_ text: String, limit: Int = maximumLength) -> String {
        var result = ""
        var kept = 0
        var dropped = 0
        for scalar in text.unicodeScalars {
            guard kept < limit else {
                dropped += 1
                continue
            }
            kept += 1
            switch scalar {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case " "..."~": result.unicodeScalars.append(scalar)
            default: result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        if dropped > 0 { result += "…(+\(dropped))" }
        return result
    }
}
