import ByteEncodings

/// A change hash: the SHA-256 of a change chunk. Ordered by bytes, as every hash list in
/// the format is sorted that way. Stored as four big-endian words so that hashing and
/// comparison are cheap.
package struct ChangeHash: Hashable, Comparable, Sendable, CustomStringConvertible {
    package let w0: UInt64
    package let w1: UInt64
    package let w2: UInt64
    package let w3: UInt64

    /// Reads 32 bytes at `offset`; the caller has checked bounds.
    init(_ bytes: [UInt8], at offset: Int) {
        func word(_ start: Int) -> UInt64 {
            var value: UInt64 = 0
            for index in start..<(start + 8) { value = value << 8 | UInt64(bytes[index]) }
            return value
        }
        w0 = word(offset)
        w1 = word(offset + 8)
        w2 = word(offset + 16)
        w3 = word(offset + 24)
    }

    /// Reads the first 32 bytes of a buffer the caller has checked.
    init(_ raw: UnsafeRawBufferPointer) {
        func word(_ start: Int) -> UInt64 {
            UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: start, as: UInt64.self))
        }
        w0 = word(0)
        w1 = word(8)
        w2 = word(16)
        w3 = word(24)
    }

    /// A hash from exactly 32 bytes.
    package init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        let array = Array(bytes)
        guard array.count == 32 else { return nil }
        self.init(array, at: 0)
    }

    /// A hash from 64 hex digits (either case).
    package init?(hex: String) {
        guard let bytes = Hex.decode(hex), bytes.count == 32 else { return nil }
        self.init(bytes, at: 0)
    }

    package var bytes: [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(32)
        append(to: &result)
        return result
    }

    package func append(to output: inout [UInt8]) {
        // Word by word, with no array of the four (this runs for every dep of every encoded change).
        func append(_ word: UInt64) {
            for shift in stride(from: 56, through: 0, by: -8) { output.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        append(w0)
        append(w1)
        append(w2)
        append(w3)
    }

    /// Lowercase hex, as Automerge shows hashes.
    package var hex: String { Hex.encode(bytes) }
    package var description: String { hex }

    package static func < (lhs: ChangeHash, rhs: ChangeHash) -> Bool {
        if lhs.w0 != rhs.w0 { return lhs.w0 < rhs.w0 }
        if lhs.w1 != rhs.w1 { return lhs.w1 < rhs.w1 }
        if lhs.w2 != rhs.w2 { return lhs.w2 < rhs.w2 }
        return lhs.w3 < rhs.w3
    }

    /// The first four bytes as stored in a chunk header.
    package var checksum: (UInt8, UInt8, UInt8, UInt8) {
        (UInt8(w0 >> 56), UInt8(truncatingIfNeeded: w0 >> 48), UInt8(truncatingIfNeeded: w0 >> 40), UInt8(truncatingIfNeeded: w0 >> 32))
    }

    /// The Bloom filter reads three little-endian u32s from the first 12 bytes.
    func littleEndianWord(_ index: Int) -> UInt32 {
        let word = index < 2 ? w0 : w1
        let half = index % 2 == 0 ? UInt32(truncatingIfNeeded: word >> 32) : UInt32(truncatingIfNeeded: word)
        return half.byteSwapped
    }
}

/// An actor id: arbitrary bytes (usually 16 random bytes), ordered lexicographically.
package struct ActorId: Hashable, Comparable, Sendable, CustomStringConvertible {
    package let bytes: [UInt8]

    package init(_ bytes: [UInt8]) { self.bytes = bytes }

    package init?(hex: String) {
        guard let bytes = Hex.decode(hex) else { return nil }
        self.bytes = bytes
    }

    package var hex: String { Hex.encode(bytes) }
    package var description: String { hex }

    package static func < (lhs: ActorId, rhs: ActorId) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
}
