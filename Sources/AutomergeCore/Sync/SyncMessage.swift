/// One message of the Automerge sync protocol (docs/sync-protocol.md §1), as plain values.
///
/// The codec is lossless: `decode` keeps everything needed to write the same bytes back
/// (hash order as received, raw change entries, the trailer's raw bytes), so a relay can
/// forward or store a message without re-encoding drift. Semantics (sorting heads, what to put
/// in `changes`) belong to the sync state machine, not here.
package struct SyncMessage: Sendable, Equatable {
    /// The first byte. V2 (0x43) may carry a whole saved document in `changes`; old readers
    /// reject it, so it is only sent to peers whose trailer said they support it.
    package enum Version: UInt8, Sendable, Equatable {
        case v1 = 0x42
        case v2 = 0x43
    }

    package var version: Version
    /// The sender's current heads (writers sort them).
    package var heads: [ChangeHash]
    /// Changes the sender asks for by hash.
    package var need: [ChangeHash]
    /// What the sender already has; current writers send zero or one entry.
    package var have: [SyncHave]
    /// Raw entries. V1: one change chunk each. V2: at most one blob of chunks (possibly a
    /// whole document). Receivers should concatenate them and parse a chunk stream.
    package var changes: [[UInt8]]
    /// The optional flags/capabilities trailer; `nil` means a pre-2.1.8 sender.
    package var trailer: SyncTrailer?

    package init(
        version: Version = .v1,
        heads: [ChangeHash] = [],
        need: [ChangeHash] = [],
        have: [SyncHave] = [],
        changes: [[UInt8]] = [],
        trailer: SyncTrailer? = nil
    ) {
        self.version = version
        self.heads = heads
        self.need = need
        self.have = have
        self.changes = changes
        self.trailer = trailer
    }

    /// Any trailer at all means the peer understands V2 messages (docs/sync-protocol.md §2).
    package var senderSupportsV2: Bool { trailer != nil }

    /// The flags in the trailer; empty without one.
    package var flags: SyncFlags { trailer?.flags ?? [] }
}

/// A summary of the changes the sender has: everything since `lastSync`, as a Bloom filter.
package struct SyncHave: Sendable, Equatable {
    package var lastSync: [ChangeHash]
    package var bloom: BloomFilter

    package init(lastSync: [ChangeHash] = [], bloom: BloomFilter = .empty) {
        self.lastSync = lastSync
        self.bloom = bloom
    }
}

/// Flags carried by the JS ≥ 3.2.6 trailer: bytes with the high bit set contribute their low
/// seven bits.
package struct SyncFlags: OptionSet, Sendable, Hashable {
    package let rawValue: UInt8
    package init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The receiver should clear its `sentHashes`.
    package static let syncReset = SyncFlags(rawValue: 1 << 0)
    /// The sender ignores incoming changes.
    package static let readOnly = SyncFlags(rawValue: 1 << 1)
    /// The sender understands `syncReset`.
    package static let supportsSyncReset = SyncFlags(rawValue: 1 << 2)
}

/// The bytes after the `changes` field (docs/sync-protocol.md §2), kept raw so every historical form
/// round-trips byte-exactly:
/// - JS 2.1.8 – 3.2.5: `02 01 02` (legacy capability codes MessageV1, MessageV2);
/// - JS ≥ 3.2.6: `02 02 8X` (legacy code MessageV2, then the bitfield `0x80 | flags`).
///
/// It must start with a uLEB length L followed by L bytes (the payload). Anything after the
/// payload is kept in `rawBytes` and otherwise ignored, as the reference ignores it; that leaves
/// room for future extensions without breaking the round trip.
package struct SyncTrailer: Sendable, Equatable {
    /// Everything after the `changes` field, exactly as received.
    package let rawBytes: [UInt8]
    /// The L bytes after the length prefix.
    package let payload: [UInt8]

    /// Parses a trailer from the bytes that follow `changes`.
    package init(rawBytes: [UInt8]) throws(AutomergeError) {
        var reader = ByteReader(rawBytes)
        payload = try reader.readLengthPrefixedBytes("sync message trailer")
        self.rawBytes = rawBytes
    }

    /// A trailer whose raw form is exactly `length ‖ payload`.
    package init(payload: [UInt8]) {
        var writer = ByteWriter(capacity: payload.count + 2)
        writer.writeLengthPrefixed(payload)
        self.rawBytes = writer.bytes
        self.payload = payload
    }

    /// `02 01 02`: what JS 2.1.8 – 3.2.5 send (capabilities MessageV1 and MessageV2).
    package static let legacyCapabilities = SyncTrailer(payload: [0x01, 0x02])

    /// `02 02 (0x80 | flags)`: what JS ≥ 3.2.6 send. The leading 0x02 (MessageV2) keeps
    /// 2.1.8 – 3.2.5 readers recognising a V2-capable peer.
    package static func current(_ flags: SyncFlags) -> SyncTrailer {
        SyncTrailer(payload: [0x02, 0x80 | (flags.rawValue & 0x7f)])
    }

    /// Payload bytes < 0x80 are legacy capability codes and carry no flags.
    package var flags: SyncFlags {
        var bits: UInt8 = 0
        for byte in payload where byte & 0x80 != 0 { bits |= byte & 0x7f }
        return SyncFlags(rawValue: bits)
    }

    /// Legacy capability codes (payload bytes < 0x80): 1 = MessageV1, 2 = MessageV2.
    package var legacyCapabilityCodes: [UInt8] { payload.filter { $0 & 0x80 == 0 } }
}
