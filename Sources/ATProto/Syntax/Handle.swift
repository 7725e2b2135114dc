/// An atproto handle (a DNS hostname), normalised to lower case.
package struct Handle: Hashable, Sendable, CustomStringConvertible {
    /// The lower-cased handle.
    package let string: String

    package static let maximumLength = 253

    package init(_ string: String) throws(SyntaxError) {
        let bytes = string.utf8
        guard bytes.count <= Self.maximumLength else { throw SyntaxError(.handle, "longer than 253 characters") }
        let segments = string.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard segments.count >= 2 else { throw SyntaxError(.handle, "needs at least two dot-separated segments") }
        for segment in segments {
            if let problem = DomainSegments.problem(with: Substring(segment).utf8) {
                throw SyntaxError(.handle, problem)
            }
        }
        guard let tld = segments.last, let first = tld.first, DomainSegments.isLetter(first) else {
            throw SyntaxError(.handle, "top-level domain must start with a letter")
        }
        self.string = string.lowercased()
    }

    package var description: String { string }
}
