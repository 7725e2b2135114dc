/// A storage key as the automerge-repo `StorageSubsystem` writes it, and its NodeFS file path.
///
/// NodeFS stores `[k0, k1, …, kn]` at `<first 2 chars of k0>/<rest of k0>/<k1>/…/<kn>`, with the components
/// used verbatim. Every component is validated on construction (no separators, dot segments or control
/// characters), so a `StorageKey` can always be turned into a path below the base directory.
package struct StorageKey: Hashable, Sendable, CustomStringConvertible {
    package let components: [String]

    /// File names are limited to 255 bytes on common file systems.
    package static let maxComponentBytes = 255

    package init(_ components: [String]) throws(StorageKeyError) {
        guard let first = components.first else { throw .emptyKey }
        for (index, component) in components.enumerated() {
            try Self.validate(component, index: index)
        }
        let firstUnits = Array(first.utf16)
        guard firstUnits.count >= 3, firstUnits[0] < 0x80, firstUnits[1] < 0x80 else { throw .firstComponentUnsplittable }
        let (head, rest) = Self.split(first)
        guard !Self.isDotSegment(head), !Self.isDotSegment(rest) else { throw .dotSegment(index: 0) }
        self.components = components
    }

    /// Rebuilds the key from a path relative to the base directory, as NodeFS `loadRange` does: split on
    /// `/`, then join the first two segments back into the first component.
    package init(relativePath: String) throws(StorageKeyError) {
        let segments = relativePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard segments.count >= 2, segments[0].utf16.count == 2 else { throw .invalidPath(relativePath) }
        try self.init([segments[0] + segments[1]] + segments.dropFirst(2))
    }

    /// `["storage-adapter-id"]`, stored at `st/orage-adapter-id`: this repo's storage id as UUID text.
    package static let storageAdapterId = StorageKey(unchecked: ["storage-adapter-id"])

    /// `[documentId, kind, name]`; `name` is a key hash (see `NodeFSKeyHash`) or, for sync state, the remote
    /// peer's storage id, which comes from the network and is validated here.
    package static func chunk(_ documentId: DocumentId, _ kind: StorageChunkKind, name: String) throws(StorageKeyError) -> StorageKey {
        try StorageKey([documentId.string, kind.rawValue, name])
    }

    /// `[documentId]` or `[documentId, kind]`: the prefix `loadRange` / `removeRange` take.
    package static func prefix(_ documentId: DocumentId, _ kind: StorageChunkKind? = nil) -> StorageKey {
        StorageKey(unchecked: [documentId.string] + (kind.map { [$0.rawValue] } ?? []))
    }

    /// A document id's bs58check string is 22–28 Base58 characters, so it always passes validation.
    private init(unchecked components: [String]) {
        self.components = components
    }

    /// The path segments below the base directory.
    package var pathComponents: [String] {
        let (head, rest) = Self.split(components[0])
        return [head, rest] + components.dropFirst()
    }

    /// The `/`-separated path below the base directory.
    package var relativePath: String { pathComponents.joined(separator: "/") }

    /// The document, chunk kind and name when this is a `[documentId, kind, name]` key.
    package var documentChunk: (documentId: DocumentId, kind: StorageChunkKind, name: String)? {
        guard components.count == 3, let kind = StorageChunkKind(rawValue: components[1]),
            let documentId = try? DocumentId(components[0])
        else { return nil }
        return (documentId, kind, components[2])
    }

    package var description: String { "[" + components.joined(separator: ", ") + "]" }

    /// Splits after 2 UTF-16 units, as JS `slice(0, 2)` does (the caller ensured they are ASCII).
    private static func split(_ first: String) -> (String, String) {
        let units = Array(first.utf16)
        let cut = min(2, units.count)
        return (String(decoding: units[..<cut], as: UTF16.self), String(decoding: units[cut...], as: UTF16.self))
    }

    private static func isDotSegment(_ segment: String) -> Bool { segment == "." || segment == ".." }

    /// Internal so that other single path components (a stored storage id) get the same checks.
    static func validate(_ component: String, index: Int) throws(StorageKeyError) {
        guard !component.isEmpty else { throw .emptyComponent(index: index) }
        for scalar in component.unicodeScalars {
            if scalar == "/" || scalar == "\\" || scalar.value < 0x20 || scalar.value == 0x7f { throw .forbiddenCharacter(index: index) }
        }
        guard !isDotSegment(component) else { throw .dotSegment(index: index) }
        let byteCount = component.utf8.count
        guard byteCount <= maxComponentBytes else { throw .componentTooLong(index: index, byteCount: byteCount) }
    }
}

/// The second component of a document key.
package enum StorageChunkKind: String, Sendable, CaseIterable {
    /// `A.save(doc)`, named by the heads hash.
    case snapshot
    /// `A.saveSince(doc, lastSavedHeads)`, named by the SHA-256 of its bytes.
    case incremental
    /// `A.encodeSyncState(state)`, named by the remote peer's storage id.
    case syncState = "sync-state"
}
