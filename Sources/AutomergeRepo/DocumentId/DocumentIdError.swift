/// Why a string is not a usable document id, Base58 value or automerge URL.
package enum DocumentIdError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The string is empty.
    case empty
    /// Longer than the accepted maximum (ids become directory names; decoding is quadratic).
    case tooLong(length: Int, limit: Int)
    /// A character outside the Bitcoin Base58 alphabet (byte offset into the UTF-8 string).
    case invalidCharacter(position: Int)
    /// Fewer than the 4 bytes a bs58check checksum needs.
    case tooShortForChecksum(byteCount: Int)
    /// The bs58check checksum does not match the payload: a typo or a truncated id.
    case badChecksum
    /// The payload is not the 16 bytes of a UUID.
    case wrongPayloadLength(Int)
    /// The URL does not start with `automerge:`.
    case notAnAutomergeURL
    /// A heads fragment entry is not the bs58check encoding of a 32-byte change hash.
    case invalidHead(String)
    /// More than one `#` in a URL.
    case multipleFragments
    /// Not a hyphenated UUID string.
    case invalidUUID

    package var description: String {
        switch self {
        case .empty: return "document id is empty"
        case .tooLong(let length, let limit): return "document id is \(length) characters long; at most \(limit) are accepted"
        case .invalidCharacter(let position): return "character at offset \(position) is not in the Base58 alphabet (no 0, O, I or l)"
        case .tooShortForChecksum(let count): return "decoded id has \(count) byte(s), fewer than its 4-byte bs58check checksum"
        case .badChecksum: return "bs58check checksum does not match: the id is mistyped or truncated"
        case .wrongPayloadLength(let count): return "document id decodes to \(count) bytes; expected 16"
        case .notAnAutomergeURL: return "URL must have the form automerge:<documentId>[#<head>|<head>…]"
        case .invalidHead(let head): return "heads entry \"\(head)\" is not a bs58check-encoded 32-byte change hash"
        case .multipleFragments: return "automerge URL contains more than one '#'"
        case .invalidUUID: return "expected a hyphenated UUID such as f1c29c84-74c8-4ade-b800-be47627d33bf"
        }
    }
}
