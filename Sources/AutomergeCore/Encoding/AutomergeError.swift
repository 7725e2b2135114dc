/// Everything that can be wrong with Automerge bytes, with messages a user can act on.
///
/// Parsers never trap on input-derived data: every malformed input ends in one of these.
package indirect enum AutomergeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input ended inside a value (`what` names the value being read).
    case unexpectedEnd(what: String)
    /// A LEB128 integer used more bytes than its shortest form.
    case overlongLEB128
    /// A LEB128 integer does not fit in 64 bits.
    case leb128TooLarge
    /// A length-prefixed string is not valid UTF-8.
    case invalidUTF8
    /// A length or count is larger than the remaining input (or an internal bound).
    case lengthTooLarge(what: String, length: UInt64)
    /// The chunk does not start with the Automerge magic bytes.
    case badMagic
    /// The stored checksum does not match the chunk's hash.
    case badChecksum
    /// An unknown chunk type byte.
    case unknownChunkType(UInt8)
    /// A bundle chunk (type 3): experimental upstream, refused here.
    case bundleNotSupported
    /// A DEFLATE stream could not be inflated.
    case badDeflateStream
    /// A DEFLATE stream inflated past its bound (`InflationLimits`): per stream, or what was left
    /// of the total for the input.
    case inflatedSizeExceeded(limit: Int)
    /// The column metadata or column data is malformed.
    case invalidColumns(String)
    /// An op has an action code the reference does not know.
    case unknownAction(UInt64)
    /// A value's metadata does not match its bytes.
    case invalidValue(String)
    /// A counter, seq or maxOp is larger than the reference accepts (u32).
    case counterTooLarge(UInt64)
    /// A document chunk is inconsistent (bad rows, dep indexes, actors, leftover bytes).
    case invalidDocument(String)
    /// Rebuilt changes do not reproduce the heads stored in the document.
    case mismatchingHeads
    /// A sync message or sync state is malformed.
    case invalidSyncMessage(String)
    /// A change with the same actor and seq as a stored change but a different hash.
    case duplicateSeqNumber(seq: UInt64, actor: String)
    /// A change's op refers to an object, element or op the document does not have, or acts
    /// on an object of the wrong kind (a list op on a map, an insert into a map, …).
    case invalidOp(String)
    /// Where the error happened in a concatenation of chunks.
    case inChunk(index: Int, offset: Int, AutomergeError)

    package var description: String {
        switch self {
        case .unexpectedEnd(let what): return "unexpected end of data while reading \(what)"
        case .overlongLEB128: return "LEB128 integer is not in its shortest form"
        case .leb128TooLarge: return "LEB128 integer does not fit in 64 bits"
        case .invalidUTF8: return "string is not valid UTF-8"
        case .lengthTooLarge(let what, let length): return "\(what) length \(length) exceeds the available data"
        case .badMagic: return "not an Automerge chunk (bad magic bytes)"
        case .badChecksum: return "bad checksum"
        case .unknownChunkType(let type): return "unknown chunk type \(type)"
        case .bundleNotSupported: return "bundle chunks (type 3) are experimental and not supported"
        case .badDeflateStream: return "corrupt DEFLATE stream"
        case .inflatedSizeExceeded(let limit): return "compressed data inflates past the limit of \(limit) bytes"
        case .invalidColumns(let reason): return "invalid columns: \(reason)"
        case .unknownAction(let action): return "unknown action \(action)"
        case .invalidValue(let reason): return "invalid value: \(reason)"
        case .counterTooLarge(let value): return "counter too large: \(value)"
        case .invalidDocument(let reason): return "invalid document: \(reason)"
        case .mismatchingHeads: return "rebuilt changes do not match the document's heads"
        case .invalidSyncMessage(let reason): return "invalid sync message: \(reason)"
        case .duplicateSeqNumber(let seq, let actor): return "duplicate seq \(seq) for actor \(actor) with a different hash"
        case .invalidOp(let reason): return "invalid op: \(reason)"
        case .inChunk(let index, let offset, let error):
            if case .badChecksum = error { return "bad checksum in chunk \(index) at byte \(offset)" }
            return "\(error) in chunk \(index) at byte \(offset)"
        }
    }

    /// The error without chunk-position context.
    package var underlying: AutomergeError {
        if case .inChunk(_, _, let error) = self { return error.underlying }
        return self
    }
}
