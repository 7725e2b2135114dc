/// LEB128 integers: Automerge's columns, chunk headers and sync messages, and the multicodec
/// varints of ATProto keys. Writers always emit the shortest form; readers reject any other.
///
/// Everything here is `@inlinable`, and the readers `@inline(__always)`: Automerge's column decoders
/// read one per value, so `ByteReader` must compile to the same loop as a decoder written in place
/// (checked in the release binary: without the attribute the optimiser kept an out-of-line call).
@usableFromInline
package enum LEB128 {
    /// Why bytes are not a valid LEB128 integer.
    @usableFromInline
    package enum DecodingError: Error, Equatable, Sendable {
        /// The input ended before a byte without the continuation bit.
        case truncated
        /// More bytes than the shortest form of the value (a second encoding of the same number).
        case overlong
        /// The value does not fit in 64 bits, or takes more bytes than the caller allows.
        case tooLarge
    }

    /// Bytes needed for any unsigned 64-bit value.
    @usableFromInline
    package static let maximumLength = 10

    // MARK: - Writing

    @inlinable
    package static func appendUnsigned(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        repeat {
            var byte = UInt8(value & 0x7f)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            bytes.append(byte)
        } while value != 0
    }

    @inlinable
    package static func appendSigned(_ value: Int64, to bytes: inout [UInt8]) {
        var value = value
        while true {
            let byte = UInt8(truncatingIfNeeded: value) & 0x7f
            value >>= 7
            if (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0) {
                bytes.append(byte)
                return
            }
            bytes.append(byte | 0x80)
        }
    }

    /// The shortest unsigned encoding of `value`.
    @inlinable
    package static func encodeUnsigned(_ value: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        appendUnsigned(value, to: &bytes)
        return bytes
    }

    /// The number of bytes `appendUnsigned` writes for `value`.
    @inlinable
    package static func unsignedSize(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

    // MARK: - Reading

    /// Reads an unsigned integer from `bytes[index..<end]`, advancing `index` past it only on success.
    /// `maxLength` caps the bytes it may take (multiformats allows 9).
    @inlinable
    @inline(__always)
    package static func readUnsigned(
        _ bytes: [UInt8],
        at index: inout Int,
        end: Int,
        maxLength: Int = maximumLength
    ) throws(DecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var position = index
        while true {
            guard position < end else { throw .truncated }
            guard position - index < maxLength else { throw .tooLarge }
            let byte = bytes[position]
            if shift == 63 && byte > 1 { throw .tooLarge }
            result |= UInt64(byte & 0x7f) << shift
            position += 1
            if byte & 0x80 == 0 {
                if byte == 0 && position - index > 1 { throw .overlong }
                index = position
                return result
            }
            shift += 7
            if shift > 63 { throw .tooLarge }
        }
    }

    /// Reads a signed integer from `bytes[index..<end]`, advancing `index` past it only on success.
    @inlinable
    @inline(__always)
    package static func readSigned(_ bytes: [UInt8], at index: inout Int, end: Int) throws(DecodingError) -> Int64 {
        var result: Int64 = 0
        var shift: UInt64 = 0
        var previous: UInt8 = 0
        var position = index
        while true {
            guard position < end else { throw .truncated }
            let byte = bytes[position]
            if shift == 63 && byte != 0 && byte != 0x7f { throw .tooLarge }
            result |= Int64(byte & 0x7f) << shift
            position += 1
            shift += 7
            if byte & 0x80 == 0 {
                if shift < 64 && byte & 0x40 != 0 { result |= -1 << shift }
                if position - index > 1 && ((byte == 0 && previous & 0x40 == 0) || (byte == 0x7f && previous & 0x40 != 0)) {
                    throw .overlong
                }
                index = position
                return result
            }
            if shift > 63 { throw .tooLarge }
            previous = byte
        }
    }

    /// Reads an unsigned integer from the start of `bytes`: its value and how many bytes it took.
    package static func decodeUnsigned(
        _ bytes: some Collection<UInt8>,
        maxLength: Int = maximumLength
    ) throws(DecodingError) -> (value: UInt64, length: Int) {
        let array = Array(bytes.prefix(maxLength + 1))
        var index = 0
        let value = try readUnsigned(array, at: &index, end: array.count, maxLength: maxLength)
        return (value, index)
    }

    /// Reads whatever LEB128-shaped bytes start at `start`, without validating them: continuation
    /// bytes up to a final byte, the end of input or `maxLength` bytes. For fuzzers that rewrite a
    /// length field in place whatever it holds; never use it to parse input.
    package static func scanUnsigned(
        _ bytes: [UInt8],
        from start: Int,
        maxLength: Int = maximumLength
    ) -> (value: UInt64, end: Int) {
        var end = start
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while end < bytes.count && end - start < maxLength {
            if shift < 64 { value |= UInt64(bytes[end] & 0x7f) << shift }
            shift += 7
            end += 1
            if bytes[end - 1] & 0x80 == 0 { break }
        }
        return (value, end)
    }
}
