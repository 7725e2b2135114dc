/// Appends Automerge primitives to a byte array, always in the shortest form.
public struct ByteWriter: Sendable {
    public var bytes: [UInt8]

    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    @inlinable
    public mutating func writeByte(_ byte: UInt8) { bytes.append(byte) }

    @inlinable
    public mutating func writeBytes<C: Collection>(_ other: C) where C.Element == UInt8 { bytes.append(contentsOf: other) }

    @inlinable
    public mutating func writeULEB(_ value: UInt64) { LEB128.appendUnsigned(value, to: &bytes) }

    @inlinable
    public mutating func writeSLEB(_ value: Int64) { LEB128.appendSigned(value, to: &bytes) }

    public mutating func writeLengthPrefixed<C: Collection>(_ other: C) where C.Element == UInt8 {
        writeULEB(UInt64(other.count))
        bytes.append(contentsOf: other)
    }

    public mutating func writeString(_ string: String) { writeLengthPrefixed(string.utf8) }

    public mutating func writeHashArray(_ hashes: [ChangeHash]) {
        writeULEB(UInt64(hashes.count))
        for hash in hashes { hash.append(to: &bytes) }
    }

    public mutating func writeActorArray(_ actors: [ActorId]) {
        writeULEB(UInt64(actors.count))
        for actor in actors { writeLengthPrefixed(actor.bytes) }
    }
}

/// LEB128 encoders (shortest form only).
public enum LEB128 {
    @inlinable
    public static func appendUnsigned(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        repeat {
            var byte = UInt8(value & 0x7f)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            bytes.append(byte)
        } while value != 0
    }

    @inlinable
    public static func appendSigned(_ value: Int64, to bytes: inout [UInt8]) {
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

    /// The number of bytes `appendUnsigned` writes for `value`.
    @inlinable
    public static func unsignedSize(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

}
