/// Everything that can be wrong with CBOR input. Offsets are byte positions in the decoded buffer.
package enum CBORError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input ended inside an item that needed `needed` more bytes.
    case unexpectedEnd(offset: Int, needed: Int)
    /// Additional information 28–30 is reserved in RFC 8949 and never well-formed.
    case reservedAdditionalInfo(offset: Int, initialByte: UInt8)
    /// Indefinite length (additional information 31) on an integer, a tag or a simple value.
    case indefiniteLengthNotAllowed(offset: Int, initialByte: UInt8)
    /// A break byte (`0xff`) outside an indefinite-length item.
    case unexpectedBreak(offset: Int)
    /// A chunk of an indefinite-length string that is not a definite string of the same major type.
    case invalidStringChunk(offset: Int, initialByte: UInt8)
    /// A declared length or element count that the remaining input cannot possibly hold.
    case lengthExceedsInput(offset: Int, declared: UInt64, available: Int)
    /// Arrays, maps and tags nested deeper than the decoder's limit.
    case nestingTooDeep(offset: Int, limit: Int)
    /// A text string whose bytes are not well-formed UTF-8.
    case invalidUTF8(offset: Int)
    /// A two-byte simple value (`0xf8 nn`) below 32, which RFC 8949 declares not well-formed.
    case invalidSimpleValue(offset: Int, value: UInt8)
    /// Bytes left after the one top-level item.
    case trailingBytes(offset: Int, count: Int)
    /// The whole input is larger than the decoder accepts.
    case inputTooLarge(size: Int, limit: Int)

    package var description: String {
        switch self {
        case .unexpectedEnd(let offset, let needed):
            return "CBOR input ended at byte \(offset) but \(needed) more byte(s) were needed: the message is truncated"
        case .reservedAdditionalInfo(let offset, let byte):
            return "CBOR initial byte 0x\(hex(byte)) at byte \(offset) uses reserved additional information 28–30"
        case .indefiniteLengthNotAllowed(let offset, let byte):
            return "CBOR initial byte 0x\(hex(byte)) at byte \(offset) declares an indefinite length, which its major type does not allow"
        case .unexpectedBreak(let offset):
            return "CBOR break byte 0xff at byte \(offset) is not inside an indefinite-length item"
        case .invalidStringChunk(let offset, let byte):
            return
                "CBOR indefinite-length string has an invalid chunk (initial byte 0x\(hex(byte))) at byte \(offset); chunks must be definite strings of the same type"
        case .lengthExceedsInput(let offset, let declared, let available):
            return "CBOR item at byte \(offset) declares length \(declared) but only \(available) byte(s) remain"
        case .nestingTooDeep(let offset, let limit):
            return "CBOR nesting deeper than \(limit) levels at byte \(offset)"
        case .invalidUTF8(let offset):
            return "CBOR text string at byte \(offset) is not valid UTF-8"
        case .invalidSimpleValue(let offset, let value):
            return "CBOR two-byte simple value \(value) at byte \(offset) is not well-formed (must be ≥ 32)"
        case .trailingBytes(let offset, let count):
            return "\(count) unexpected byte(s) after the CBOR item, starting at byte \(offset); one message must be exactly one item"
        case .inputTooLarge(let size, let limit):
            return "CBOR input of \(size) bytes exceeds the limit of \(limit) bytes"
        }
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
    }
}
