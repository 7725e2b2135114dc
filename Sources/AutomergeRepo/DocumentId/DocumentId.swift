import AutomergeCore
import ByteEncodings

/// A validated automerge-repo document id: the bs58check string of exactly 16 bytes (a UUID v4 for
/// repo-created documents).
///
/// JS accepts any bs58check payload length (custom `idFactory`s exist); this server deliberately accepts
/// only 16-byte ids, like automerge-repo-swift, because the id becomes a directory name. Construction is
/// the validation: a `DocumentId` value is always safe to turn into a storage path.
package struct DocumentId: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 16 payload bytes.
    package let bytes: [UInt8]
    /// The bs58check string used on the wire and in storage keys.
    package let string: String

    package static let byteCount = 16
    /// bs58check of 16 + 4 bytes is at most 28 characters; anything longer cannot be valid.
    package static let maxStringLength = 28

    /// Parses and validates a bs58check id (alphabet, checksum, 16-byte payload).
    package init(_ string: String) throws(DocumentIdError) {
        guard !string.isEmpty else { throw .empty }
        let payload = try Base58Check.decode(string, maxLength: Self.maxStringLength)
        guard payload.count == Self.byteCount else { throw .wrongPayloadLength(payload.count) }
        self.bytes = payload
        // Re-encode rather than keep the input: Base58 is canonical, so this equals `string`.
        self.string = Base58Check.encode(payload)
    }

    /// Wraps 16 raw bytes.
    package init(bytes: [UInt8]) throws(DocumentIdError) {
        guard bytes.count == Self.byteCount else { throw .wrongPayloadLength(bytes.count) }
        self.bytes = bytes
        self.string = Base58Check.encode(bytes)
    }

    /// The pre-1.0 form, a hyphenated UUID string, which JS's `interpretAsDocumentId` still converts.
    package init(uuidString: String) throws(DocumentIdError) {
        let hex = String(uuidString.filter { $0 != "-" })
        let groups = uuidString.split(separator: "-", omittingEmptySubsequences: false).map(\.count)
        guard groups == [8, 4, 4, 4, 12], let bytes = Hex.decode(hex), bytes.count == Self.byteCount else { throw .invalidUUID }
        try self.init(bytes: bytes)
    }

    /// A fresh random id shaped like JS's `uuid.v4` bytes (version 4, RFC 4122 variant).
    package static func random() -> DocumentId {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    package static func random<G: RandomNumberGenerator>(using generator: inout G) -> DocumentId {
        var bytes = (0..<byteCount).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = (bytes[6] & 0x0f) | 0x40
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        return DocumentId(validatedBytes: bytes)
    }

    private init(validatedBytes bytes: [UInt8]) {
        self.bytes = bytes
        self.string = Base58Check.encode(bytes)
    }

    /// The hyphenated UUID form of the bytes.
    package var uuidString: String {
        let hex = Hex.encode(bytes)
        let characters = Array(hex)
        let cuts = [0, 8, 12, 16, 20, 32]
        return (0..<5).map { String(characters[cuts[$0]..<cuts[$0 + 1]]) }.joined(separator: "-")
    }

    /// `automerge:<id>`.
    package var url: String { "automerge:\(string)" }

    package var description: String { string }

    package static func < (lhs: DocumentId, rhs: DocumentId) -> Bool { lhs.string < rhs.string }
}
