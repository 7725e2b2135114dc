/// Why a CBOR frame is not a usable automerge-repo message.
///
/// Errors name the message type where it is known, so a server can tolerate broken messages of types it
/// ignores anyway (remote-heads gossip) instead of dropping the connection.
package enum RepoMessageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes are not one well-formed CBOR item.
    case cbor(CBORError)
    /// The item is not a map (every message is one CBOR map).
    case notAMap(found: String)
    /// No text `type` field.
    case missingType
    /// A required field is absent, `null` or `undefined`.
    case missingField(messageType: String, field: String)
    /// A field has the wrong CBOR type.
    case wrongFieldType(messageType: String, field: String, expected: String, found: String)
    /// A numeric field is negative, fractional, not finite or out of range.
    case invalidNumber(messageType: String, field: String)

    /// The message type the error is about, if it got that far.
    package var messageType: String? {
        switch self {
        case .cbor, .notAMap, .missingType: return nil
        case .missingField(let type, _), .wrongFieldType(let type, _, _, _), .invalidNumber(let type, _): return type
        }
    }

    package var description: String {
        switch self {
        case .cbor(let error): return "invalid CBOR: \(error)"
        case .notAMap(let found): return "message must be a CBOR map with text keys, found \(found)"
        case .missingType: return "message has no text \"type\" field"
        case .missingField(let type, let field): return "\"\(type)\" message is missing required field \"\(field)\""
        case .wrongFieldType(let type, let field, let expected, let found):
            return "\"\(type)\" message field \"\(field)\" must be \(expected), found \(found)"
        case .invalidNumber(let type, let field):
            return "\"\(type)\" message field \"\(field)\" must be a non-negative integer number"
        }
    }
}
