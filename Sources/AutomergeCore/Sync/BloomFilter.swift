/// The Bloom filter a sync peer sends in `have` to summarise the changes it added since
/// `lastSync` (docs/sync-protocol.md §3). A false positive only delays a change until the peer asks for it
/// by hash, so the parameters trade size for round trips.
///
/// Decoding is stricter than the reference, which would divide by zero on `m = 0` and
/// silently drop trailing bytes: a filter that decodes here re-encodes to the same bytes.
package struct BloomFilter: Sendable, Equatable {
    /// What current writers use: about 1% false positives.
    package static let defaultBitsPerEntry: UInt32 = 10
    package static let defaultProbes: UInt32 = 7
    /// More probes than any writer would use; bounds the work `contains` does per hash.
    package static let maximumProbes: UInt32 = 64
    /// Keeps `m = 8 × bytes` below 2^31 so probe sums never overflow the reference's u32 maths.
    package static let maximumBitBytes = 1 << 28

    package let numEntries: UInt32
    package let bitsPerEntry: UInt32
    package let numProbes: UInt32
    /// Bit *p* is bit `p & 7` (LSB first) of byte `p >> 3`.
    package let bits: [UInt8]

    /// The filter with no entries: serialises to no bytes and contains nothing.
    package static let empty = BloomFilter(hashes: [ChangeHash]())

    /// A filter over `hashes` with the writer defaults (10 bits per entry, 7 probes).
    /// Duplicates count as entries, as in the reference. (Beyond ~214 million entries the bit
    /// array would pass `maximumBitBytes`; no document gets near that, so it is only clamped.)
    package init<S: Sequence>(hashes: S) where S.Element == ChangeHash {
        let all = Array(hashes)
        numEntries = UInt32(clamping: all.count)
        bitsPerEntry = Self.defaultBitsPerEntry
        numProbes = Self.defaultProbes
        let byteCount = Self.bitByteCount(entries: numEntries, bitsPerEntry: bitsPerEntry)
        var bits = [UInt8](repeating: 0, count: min(byteCount, Self.maximumBitBytes))
        if !bits.isEmpty {
            for hash in all {
                for probe in Self.probes(for: hash, bitCount: UInt64(bits.count) * 8, probes: numProbes) {
                    bits[Int(probe >> 3)] |= 1 << (probe & 7)
                }
            }
        }
        self.bits = bits
    }

    /// Parses the serialised form (empty bytes = the empty filter).
    ///
    /// Rejects, with `.invalidSyncMessage`: parameters over 32 bits, zero entries written
    /// explicitly (writers send empty bytes instead), a bit array that is empty or not exactly
    /// `ceil(numEntries × bitsPerEntry / 8)` bytes, and probe counts outside 1...64.
    package init(decoding bytes: [UInt8]) throws(AutomergeError) {
        if bytes.isEmpty {
            self = .empty
            return
        }
        var reader = ByteReader(bytes)
        let entries = try Self.readU32(&reader, "Bloom filter entry count")
        let perEntry = try Self.readU32(&reader, "Bloom filter bits per entry")
        let probes = try Self.readU32(&reader, "Bloom filter probe count")
        guard entries > 0 else {
            throw .invalidSyncMessage("Bloom filter with zero entries must be encoded as empty bytes")
        }
        guard probes >= 1, probes <= Self.maximumProbes else {
            throw .invalidSyncMessage("Bloom filter probe count \(probes) outside 1...\(Self.maximumProbes)")
        }
        let expected = Self.bitByteCount(entries: entries, bitsPerEntry: perEntry)
        guard expected > 0 else { throw .invalidSyncMessage("Bloom filter has no bits (bits per entry is 0)") }
        guard expected <= Self.maximumBitBytes else {
            throw .invalidSyncMessage("Bloom filter of \(expected) bytes exceeds the limit")
        }
        guard expected == reader.remaining else {
            throw .invalidSyncMessage("Bloom filter bit array is \(reader.remaining) bytes, expected \(expected)")
        }
        numEntries = entries
        bitsPerEntry = perEntry
        numProbes = probes
        bits = try reader.readBytes(expected, "Bloom filter bits")
    }

    package var isEmpty: Bool { numEntries == 0 }

    /// The serialised form: empty for an empty filter.
    package var bytes: [UInt8] {
        guard !isEmpty else { return [] }
        var writer = ByteWriter(capacity: bits.count + 8)
        writer.writeULEB(UInt64(numEntries))
        writer.writeULEB(UInt64(bitsPerEntry))
        writer.writeULEB(UInt64(numProbes))
        writer.writeBytes(bits)
        return writer.bytes
    }

    /// Whether `hash` may be in the set (false positives possible, false negatives not).
    package func contains(_ hash: ChangeHash) -> Bool {
        guard !isEmpty, !bits.isEmpty else { return false }
        for probe in probes(for: hash) where bits[Int(probe >> 3)] & (1 << (probe & 7)) == 0 {
            return false
        }
        return true
    }

    /// The bit positions `hash` maps to in this filter (docs/sync-protocol.md §3).
    func probes(for hash: ChangeHash) -> [UInt32] {
        guard !bits.isEmpty else { return [] }
        return Self.probes(for: hash, bitCount: UInt64(bits.count) * 8, probes: numProbes)
    }

    /// x, y, z are the first three little-endian u32s of the hash mod m; each further probe
    /// steps x by y and y by z. `bitCount` is never 0 here and at most 2^31, so the sums fit.
    private static func probes(for hash: ChangeHash, bitCount m: UInt64, probes: UInt32) -> [UInt32] {
        var x = UInt64(hash.littleEndianWord(0)) % m
        var y = UInt64(hash.littleEndianWord(1)) % m
        let z = UInt64(hash.littleEndianWord(2)) % m
        var result: [UInt32] = [UInt32(x)]
        result.reserveCapacity(Int(probes))
        var remaining = probes
        while remaining > 1 {
            x = (x + y) % m
            y = (y + z) % m
            result.append(UInt32(x))
            remaining -= 1
        }
        return result
    }

    /// `ceil(entries × bitsPerEntry / 8)`; both factors are u32, so the product fits in u64.
    private static func bitByteCount(entries: UInt32, bitsPerEntry: UInt32) -> Int {
        let totalBits = UInt64(entries) * UInt64(bitsPerEntry)
        let bytes = totalBits / 8 + (totalBits % 8 == 0 ? 0 : 1)
        return bytes > UInt64(Int.max) ? Int.max : Int(bytes)
    }

    /// The reference reads the three parameters as u32 LEBs.
    private static func readU32(_ reader: inout ByteReader, _ what: String) throws(AutomergeError) -> UInt32 {
        let value = try reader.readULEB(what)
        guard let narrow = UInt32(exactly: value) else {
            throw .invalidSyncMessage("\(what) \(value) does not fit in 32 bits")
        }
        return narrow
    }
}
