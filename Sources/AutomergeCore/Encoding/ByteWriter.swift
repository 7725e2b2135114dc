import ByteEncodings

/// Appends Automerge primitives to a byte array, always in the shortest form.
package struct ByteWriter: Sendable {
    package var bytes: [UInt8]

    package init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    package var count: Int { bytes.count }

    package mutating func writeByte(_ byte: UInt8) { bytes.append(byte) }

    package mutating func writeBytes<C: Collection>(_ other: C) where C.Element == UInt8 { bytes.append(contentsOf: other) }

    package mutating func writeULEB(_ value: UInt64) { LEB128.appendUnsigned(value, to: &bytes) }

    package mutating func writeSLEB(_ value: Int64) { LEB128.appendSigned(value, to: &bytes) }

    package mutating func writeLengthPrefixed<C: Collection>(_ other: C) where C.Element == UInt8 {
        writeULEB(UInt64(other.count))
        bytes.append(contentsOf: other)
    }

    package mutating func writeString(_ string: String) { writeLengthPrefixed(string.utf8) }

    package mutating func writeHashArray(_ hashes: [ChangeHash]) {
        writeULEB(UInt64(hashes.count))
        for hash in hashes { hash.append(to: &bytes) }
    }

    package mutating func writeActorArray(_ actors: [ActorId]) {
        writeULEB(UInt64(actors.count))
        for actor in actors { writeLengthPrefixed(actor.bytes) }
    }
}
