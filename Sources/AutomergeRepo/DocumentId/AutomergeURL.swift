package import AutomergeCore

/// `automerge:<documentId>[#<head>|<head>…]`, as built and parsed by automerge-repo 2.x.
///
/// Heads in the fragment are bs58check-encoded 32-byte change hashes; an empty fragment means an empty
/// heads list. The 2.6 path suffix (`automerge:<id>/seg…`) is not accepted. URLs never travel in protocol
/// fields, only bare document ids do.
package struct AutomergeURL: Hashable, Sendable, CustomStringConvertible {
    package static let scheme = "automerge:"

    package let documentId: DocumentId
    /// `nil` without a fragment; `[]` for a bare `#`.
    package let heads: [ChangeHash]?

    package init(documentId: DocumentId, heads: [ChangeHash]? = nil) {
        self.documentId = documentId
        self.heads = heads
    }

    package init(_ string: String) throws(DocumentIdError) {
        guard string.hasPrefix(Self.scheme) else { throw .notAnAutomergeURL }
        let rest = string.dropFirst(Self.scheme.count)
        let parts = rest.split(separator: "#", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw .multipleFragments }
        self.documentId = try DocumentId(String(parts[0]))
        if parts.count == 2 {
            var heads: [ChangeHash] = []
            for encoded in parts[1].split(separator: "|") {
                guard let payload = try? Base58Check.decode(String(encoded), maxLength: 64),
                    let hash = ChangeHash(bytes: payload)
                else { throw .invalidHead(String(encoded)) }
                heads.append(hash)
            }
            self.heads = heads
        } else {
            self.heads = nil
        }
    }

    package var description: String {
        guard let heads else { return documentId.url }
        return documentId.url + "#" + heads.map { Base58Check.encode($0.bytes) }.joined(separator: "|")
    }
}
