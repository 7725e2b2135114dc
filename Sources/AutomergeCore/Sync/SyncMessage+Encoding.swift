import ByteEncodings

extension SyncMessage {
    /// Parses a sync message strictly: an unknown type byte, a truncation, a count larger than
    /// the remaining input, an overlong LEB or a malformed Bloom filter is an error. The only
    /// tolerance is the trailer (see `SyncTrailer`), whose bytes are kept verbatim.
    package static func decode(_ bytes: [UInt8]) throws(AutomergeError) -> SyncMessage {
        var reader = ByteReader(bytes)
        let typeByte = try reader.readByte("sync message type")
        guard let version = Version(rawValue: typeByte) else {
            throw .invalidSyncMessage("unknown message type 0x\(Hex.encode([typeByte])) (expected 0x42 or 0x43)")
        }
        let heads = try reader.readHashArray("sync message heads")
        let need = try reader.readHashArray("sync message need")

        // Each have entry takes at least two bytes: an empty hash array and an empty bloom.
        let haveCount = try reader.readCount("sync message have", minimumItemSize: 2)
        var have: [SyncHave] = []
        have.reserveCapacity(haveCount)
        for _ in 0..<haveCount {
            let lastSync = try reader.readHashArray("sync message lastSync")
            let bloomBytes = try reader.readLengthPrefixedBytes("sync message Bloom filter")
            have.append(SyncHave(lastSync: lastSync, bloom: try BloomFilter(decoding: bloomBytes)))
        }

        let changeCount = try reader.readCount("sync message changes")
        var changes: [[UInt8]] = []
        changes.reserveCapacity(changeCount)
        for _ in 0..<changeCount {
            changes.append(try reader.readLengthPrefixedBytes("sync message change"))
        }

        var trailer: SyncTrailer?
        if !reader.isAtEnd {
            trailer = try SyncTrailer(rawBytes: try reader.readBytes(reader.remaining, "sync message trailer"))
        }
        return SyncMessage(version: version, heads: heads, need: need, have: have, changes: changes, trailer: trailer)
    }

    /// The wire form. Fields are written in the order held, so callers that build messages
    /// must sort `heads`, `need` and `lastSync` themselves (decoded messages re-encode exactly).
    package func encode() -> [UInt8] {
        var capacity = 1 + 10 + 32 * (heads.count + need.count) + 20 + (trailer?.rawBytes.count ?? 0)
        for entry in have { capacity += 20 + 32 * entry.lastSync.count + entry.bloom.bits.count }
        for change in changes { capacity += 10 + change.count }
        var writer = ByteWriter(capacity: capacity)
        writer.writeByte(version.rawValue)
        writer.writeHashArray(heads)
        writer.writeHashArray(need)
        writer.writeULEB(UInt64(have.count))
        for entry in have {
            writer.writeHashArray(entry.lastSync)
            writer.writeLengthPrefixed(entry.bloom.bytes)
        }
        writer.writeULEB(UInt64(changes.count))
        for change in changes { writer.writeLengthPrefixed(change) }
        if let trailer { writer.writeBytes(trailer.rawBytes) }
        return writer.bytes
    }
}
