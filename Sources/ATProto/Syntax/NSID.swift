/// A namespaced identifier such as `xyz.groundmist.sync.authenticate`.
///
/// The authority part is case-insensitive and normalised to lower case; the name is case-sensitive
/// and kept as given.
package struct NSID: Hashable, Sendable, CustomStringConvertible {
    /// Authority lower-cased, name as given.
    package let string: String
    /// Authority segments in NSID order, lower-cased (e.g. `["xyz", "groundmist", "sync"]`).
    package let authoritySegments: [String]
    package let name: String

    package static let maximumLength = 317

    package init(_ string: String) throws(SyntaxError) {
        guard string.utf8.count <= Self.maximumLength else { throw SyntaxError(.nsid, "longer than 317 characters") }
        guard string.utf8.allSatisfy({ $0 < 0x80 }) else { throw SyntaxError(.nsid, "must be ASCII") }
        let segments = string.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count >= 3, let name = segments.last else { throw SyntaxError(.nsid, "needs at least three segments") }
        let authority = segments.dropLast()
        do {
            try NamespacePrefix.validate(segments: Array(authority), maximumLength: Self.maximumLength)
        } catch {
            throw SyntaxError(.nsid, error.reason)
        }
        let nameBytes = name.utf8
        guard (1...63).contains(nameBytes.count) else { throw SyntaxError(.nsid, "name must be 1-63 characters") }
        guard nameBytes.allSatisfy(DomainSegments.isAlphanumeric) else { throw SyntaxError(.nsid, "name must be letters and digits only") }
        guard let first = nameBytes.first, DomainSegments.isLetter(first) else { throw SyntaxError(.nsid, "name must start with a letter") }
        self.authoritySegments = authority.map { $0.lowercased() }
        self.name = String(name)
        self.string = (authoritySegments + [self.name]).joined(separator: ".")
    }

    /// The authority in DNS order, e.g. `sync.groundmist.xyz` (for `_lexicon` lookups).
    package var authorityDomain: String { authoritySegments.reversed().joined(separator: ".") }

    package var description: String { string }

    /// True when this NSID lies under `prefix`, compared segment by segment.
    package func isUnder(_ prefix: NamespacePrefix) -> Bool {
        authoritySegments.starts(with: prefix.segments)
    }
}
