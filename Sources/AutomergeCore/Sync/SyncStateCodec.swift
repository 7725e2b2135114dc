import ByteEncodings

/// Persistence of a peer's sync state (docs/sync-protocol.md §4): only `sharedHeads` survives, as
/// `0x43 ‖ hash array`. (0x43 is also the V2 message type; the two are never mixed up because
/// states and messages are stored in different places.)
package enum SyncStateCodec {
    /// The first byte of an encoded sync state.
    package static let typeByte: UInt8 = 0x43

    /// Encodes the shared heads, sorted by bytes as every hash list in the format is.
    package static func encode(sharedHeads: [ChangeHash]) -> [UInt8] {
        var writer = ByteWriter(capacity: 2 + 32 * sharedHeads.count)
        writer.writeByte(typeByte)
        writer.writeHashArray(sharedHeads.sorted())
        return writer.bytes
    }

    /// Decodes the shared heads, in stored order.
    ///
    /// Like the reference: another first byte, a truncated or oversized hash array, or an
    /// overlong count is an error, while bytes after the hash array are ignored. The reference
    /// stops parsing there, and tolerating them lets a state written by a future version that
    /// appends fields still load. Unsorted heads are accepted as stored (the reference does not
    /// check either); `encode` sorts them again.
    package static func decode(_ bytes: [UInt8]) throws(AutomergeError) -> [ChangeHash] {
        var reader = ByteReader(bytes)
        let first = try reader.readByte("sync state type")
        guard first == typeByte else {
            throw .invalidSyncMessage("sync state starts with 0x\(Hex.encode([first])), expected 0x43")
        }
        return try reader.readHashArray("sync state shared heads")
    }
}
