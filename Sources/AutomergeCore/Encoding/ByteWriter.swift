import ByteEncodings

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
