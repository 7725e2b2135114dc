/// A "namespace prefix (NSID order)" such as `xyz.groundmist.library`: the lexicon group an app
/// syncs under. Validated with the NSID domain-authority rules and stored lower-cased, so it maps to
/// one directory per segment on any filesystem.
package struct NamespacePrefix: Hashable, Sendable, CustomStringConvertible {
    package let segments: [String]

    package init(_ string: String) throws(SyntaxError) {
        guard string.utf8.allSatisfy({ $0 < 0x80 }) else { throw SyntaxError(.namespacePrefix, "must be ASCII") }
        let parts = string.split(separator: ".", omittingEmptySubsequences: false)
        do {
            try Self.validate(segments: parts)
        } catch {
            throw SyntaxError(.namespacePrefix, error.reason)
        }
        segments = parts.map { $0.lowercased() }
    }

    /// Domain-authority rules: ≥ 2 segments, hostname segments, first not starting with a digit, and
    /// at most `maximumLength` characters (253 for a prefix; NSIDs cap only their total length).
    static func validate(segments: [Substring], maximumLength: Int = 253) throws(SyntaxError) {
        guard segments.count >= 2 else { throw SyntaxError(.namespacePrefix, "needs at least two segments") }
        let length = segments.reduce(segments.count - 1) { $0 + $1.utf8.count }
        guard length <= maximumLength else { throw SyntaxError(.namespacePrefix, "longer than \(maximumLength) characters") }
        for segment in segments {
            if let problem = DomainSegments.problem(with: segment.utf8) {
                throw SyntaxError(.namespacePrefix, problem)
            }
        }
        guard let first = segments.first?.utf8.first, !DomainSegments.isDigit(first) else {
            throw SyntaxError(.namespacePrefix, "first segment must not start with a digit")
        }
    }

    /// The lower-cased prefix in NSID order.
    package var string: String { segments.joined(separator: ".") }

    package var description: String { string }
}
