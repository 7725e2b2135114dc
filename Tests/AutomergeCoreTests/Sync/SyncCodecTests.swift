import ByteEncodings
import TestSupport
import Testing

@testable import AutomergeCore

/// Vectors of docs/sync-protocol.md §3 and malformed input for the sync codecs. No fixtures needed.
@Suite struct SyncCodecTests {
    /// The two change hashes of `two_change_chunks` (docs/binary-format.md §2 / docs/sync-protocol.md §3).
    static let first = ChangeHash(hex: "9ac3d730f262da35e71db591b9e8150de9b02826daf75006f2298916adec6e0b")!
    static let second = ChangeHash(hex: "a7e727d50d6fdc1419e018cdce333683f48b609bf30f5b4b3a613ba35d6b1dc9")!

    static let bloomVector: [UInt8] = [0x02, 0x0a, 0x07, 0x24, 0x92, 0xb6]

    /// The whole V1 message of docs/sync-protocol.md §3, without a trailer.
    static let messageVector: [UInt8] =
        [0x42, 0x01] + second.bytes + [0x00, 0x01, 0x00, 0x06] + bloomVector + [0x00]

    static func hex(_ string: String) -> [UInt8] { Hex.decode(string) ?? [] }

    // MARK: - Bloom filter

    @Test func probesMatchSpecVector() {
        let filter = BloomFilter(hashes: [Self.first, Self.second])
        #expect(filter.probes(for: Self.first) == [18, 20, 5, 21, 20, 2, 15])
        #expect(filter.probes(for: Self.second) == [23, 12, 2, 17, 9, 2, 20])
    }

    @Test func serialisesSpecVector() {
        let filter = BloomFilter(hashes: [Self.first, Self.second])
        #expect(filter.numEntries == 2)
        #expect(filter.bitsPerEntry == 10)
        #expect(filter.numProbes == 7)
        #expect(filter.bytes == Self.bloomVector)
    }

    @Test func decodesSpecVector() throws {
        let filter = try BloomFilter(decoding: Self.bloomVector)
        #expect(filter == BloomFilter(hashes: [Self.second, Self.first]))
        #expect(filter.contains(Self.first))
        #expect(filter.contains(Self.second))
        #expect(filter.bytes == Self.bloomVector)
    }

    @Test func emptyFilter() throws {
        let empty = BloomFilter(hashes: [ChangeHash]())
        #expect(empty.bytes.isEmpty)
        #expect(empty.isEmpty)
        #expect(!empty.contains(Self.first))
        #expect(try BloomFilter(decoding: []) == empty)
        #expect(empty == .empty)
    }

    @Test func respectsParametersFromTheWire() throws {
        // One entry, 16 bits per entry, 1 probe: bit x = LE u32 of h[0..4] mod 16 must be set.
        let x = Int(Self.first.littleEndianWord(0) % 16)
        var bits: [UInt8] = [0, 0]
        bits[x >> 3] |= 1 << (x & 7)
        let filter = try BloomFilter(decoding: [0x01, 0x10, 0x01] + bits)
        #expect(filter.numProbes == 1)
        #expect(filter.probes(for: Self.first) == [UInt32(x)])
        #expect(filter.contains(Self.first))
        var cleared = bits
        cleared[x >> 3] = 0
        #expect(!(try BloomFilter(decoding: [0x01, 0x10, 0x01] + cleared)).contains(Self.first))
    }

    @Test func falsePositiveRateIsAboutOnePercent() {
        var rng = SplitMix64(seed: 0x5eed)
        let members = (0..<2000).map { _ in rng.nextHash() }
        let filter = BloomFilter(hashes: members)
        #expect(members.allSatisfy(filter.contains))
        let strangers = (0..<20_000).map { _ in rng.nextHash() }
        let positives = strangers.filter(filter.contains).count
        #expect(positives < 20_000 * 3 / 100, "false positives: \(positives) of 20000")
    }

    @Test(arguments: [
        ("truncated bits", "020a072492"),
        ("extra byte", "020a072492b600"),
        ("zero entries written explicitly", "000a07"),
        ("zero bits per entry (m = 0)", "020007"),
        ("zero probes", "020a002492b6"),
        ("65 probes", "020a412492b6"),
        ("entries over 32 bits", "8080808010" + "0a07"),
        ("huge entry count, no bits", "ffffffff0f0a07"),
        ("huge bits per entry", "01ffffffff0f07"),
        ("overlong LEB", "82000a072492b6"),
        ("truncated header", "020a"),
        ("only a count", "02"),
    ])
    func rejectsMalformedBloom(_ testCase: (String, String)) {
        #expect(throws: AutomergeError.self, "\(testCase.0)") { try BloomFilter(decoding: Self.hex(testCase.1)) }
    }

    // MARK: - Messages

    @Test func encodesWholeV1Vector() throws {
        let bloom = try BloomFilter(decoding: Self.bloomVector)
        let message = SyncMessage(
            version: .v1,
            heads: [Self.second],
            need: [],
            have: [SyncHave(lastSync: [], bloom: bloom)],
            changes: []
        )
        #expect(message.encode() == Self.messageVector)
        let decoded = try SyncMessage.decode(Self.messageVector)
        #expect(decoded == message)
        #expect(decoded.trailer == nil)
        #expect(!decoded.senderSupportsV2)
        #expect(decoded.flags.isEmpty)
    }

    @Test func currentTrailerVariant() throws {
        let bytes = Self.messageVector + [0x02, 0x02, 0x84]
        let decoded = try SyncMessage.decode(bytes)
        #expect(decoded.trailer == .current(.supportsSyncReset))
        #expect(decoded.flags == .supportsSyncReset)
        #expect(decoded.senderSupportsV2)
        #expect(decoded.trailer?.legacyCapabilityCodes == [0x02])
        #expect(decoded.encode() == bytes)
        var rebuilt = try SyncMessage.decode(Self.messageVector)
        rebuilt.trailer = .current([.supportsSyncReset])
        #expect(rebuilt.encode() == bytes)
    }

    @Test func legacyTrailer() throws {
        let bytes = Self.messageVector + [0x02, 0x01, 0x02]
        let decoded = try SyncMessage.decode(bytes)
        #expect(decoded.trailer == .legacyCapabilities)
        #expect(decoded.trailer?.rawBytes == [0x02, 0x01, 0x02])
        #expect(decoded.trailer?.legacyCapabilityCodes == [0x01, 0x02])
        #expect(decoded.flags.isEmpty)
        #expect(decoded.senderSupportsV2)
        #expect(decoded.encode() == bytes)
    }

    @Test func flagBits() throws {
        #expect(SyncFlags.syncReset.rawValue == 1)
        #expect(SyncFlags.readOnly.rawValue == 2)
        #expect(SyncFlags.supportsSyncReset.rawValue == 4)
        let all: SyncFlags = [.syncReset, .readOnly, .supportsSyncReset]
        #expect(SyncTrailer.current(all).rawBytes == [0x02, 0x02, 0x87])
        let decoded = try SyncMessage.decode(Self.messageVector + [0x02, 0x02, 0x83])
        #expect(decoded.flags == [.syncReset, .readOnly])
        #expect(!decoded.flags.contains(.supportsSyncReset))
        // An empty trailer still says "supports V2" (docs/sync-protocol.md §2).
        let bare = try SyncMessage.decode(Self.messageVector + [0x00])
        #expect(bare.senderSupportsV2)
        #expect(bare.flags.isEmpty)
        #expect(bare.encode() == Self.messageVector + [0x00])
    }

    @Test func bytesAfterTrailerPayloadAreKept() throws {
        let bytes = Self.messageVector + [0x02, 0x02, 0x84, 0x99, 0x81]
        let decoded = try SyncMessage.decode(bytes)
        #expect(decoded.trailer?.payload == [0x02, 0x84])
        #expect(decoded.flags == .supportsSyncReset)
        #expect(decoded.encode() == bytes)
    }

    @Test func v2MessageWithChanges() throws {
        let blob: [UInt8] = [0x85, 0x6f, 0x4a, 0x83, 1, 2, 3, 4, 0, 0]
        let message = SyncMessage(
            version: .v2,
            heads: [Self.first, Self.second],
            need: [Self.first],
            have: [SyncHave(lastSync: [Self.first], bloom: BloomFilter(hashes: [Self.second]))],
            changes: [blob, []],
            trailer: .current([.readOnly, .supportsSyncReset])
        )
        let bytes = message.encode()
        #expect(bytes.first == 0x43)
        #expect(try SyncMessage.decode(bytes) == message)
    }

    @Test func everyTruncationIsAnErrorOrTheTrailerlessMessage() throws {
        let full = Self.messageVector + [0x02, 0x02, 0x84]
        for length in 0..<full.count {
            let prefix = Array(full[..<length])
            if length == Self.messageVector.count {
                #expect(try SyncMessage.decode(prefix).trailer == nil)
            } else {
                #expect(throws: AutomergeError.self, "prefix \(length)") { try SyncMessage.decode(prefix) }
            }
        }
    }

    @Test(arguments: [
        ("empty", ""),
        ("type 0x41", "4100000000"),
        ("type 0x44", "4400000000"),
        ("type 0x00", "0000000000"),
        ("sync state is not a message", "4300"),
        ("huge heads count", "42ffffffffffffffffff01000000"),
        ("heads count beyond input", "4202" + String(repeating: "11", count: 32) + "000000"),
        ("huge need count", "4200ffffffff0f0000"),
        ("huge have count", "420000ffffffff0f00"),
        ("huge lastSync count", "42000001ffffffff0f0000"),
        ("bloom length beyond input", "4200000100ff0100"),
        ("malformed bloom", "420000010003020a0700"),
        ("bloom m = 0", "4200000100030200070000"),
        ("huge changes count", "42000000ffffffff0f"),
        ("change length beyond input", "4200000001ff0100"),
        ("overlong count", "428000000000"),
        ("trailer length beyond input", "420000000005010203"),
        ("overlong trailer length", "4200000000800000"),
    ])
    func rejectsMalformedMessage(_ testCase: (String, String)) {
        #expect(throws: AutomergeError.self, "\(testCase.0)") { try SyncMessage.decode(Self.hex(testCase.1)) }
    }

    @Test func unknownTypeIsInvalidSyncMessage() {
        #expect(throws: AutomergeError.invalidSyncMessage("unknown message type 0x44 (expected 0x42 or 0x43)")) {
            try SyncMessage.decode([0x44, 0, 0, 0, 0])
        }
    }

    @Test func hostileCountsFailWithoutAllocating() {
        // 2^63 heads claimed in a 12-byte message: rejected by the count bound, not by memory.
        let bytes = Self.hex("42ffffffffffffffff7f000000")
        #expect(throws: AutomergeError.lengthTooLarge(what: "sync message heads", length: UInt64(Int64.max))) {
            try SyncMessage.decode(bytes)
        }
    }

    // MARK: - Sync state

    @Test func syncStateRoundTrip() throws {
        #expect(SyncStateCodec.encode(sharedHeads: []) == [0x43, 0x00])
        #expect(try SyncStateCodec.decode([0x43, 0x00]) == [])
        let encoded = SyncStateCodec.encode(sharedHeads: [Self.second, Self.first])
        #expect(encoded == [0x43, 0x02] + Self.first.bytes + Self.second.bytes, "encode sorts")
        #expect(try SyncStateCodec.decode(encoded) == [Self.first, Self.second])
    }

    @Test func syncStateIgnoresTrailingBytesLikeTheReference() throws {
        let encoded = SyncStateCodec.encode(sharedHeads: [Self.first]) + [0x01, 0x02]
        #expect(try SyncStateCodec.decode(encoded) == [Self.first])
    }

    @Test(arguments: [
        ("empty", ""),
        ("message type byte", "4200"),
        ("zero byte", "0000"),
        ("no count", "43"),
        ("truncated hash", "4301" + String(repeating: "ab", count: 31)),
        ("huge count", "43ffffffffffffffffff01"),
        ("overlong count", "438000"),
    ])
    func rejectsMalformedSyncState(_ testCase: (String, String)) {
        #expect(throws: AutomergeError.self, "\(testCase.0)") { try SyncStateCodec.decode(Self.hex(testCase.1)) }
    }
}

extension SplitMix64 {
    /// A random change hash (32 bytes from four draws).
    mutating func nextHash() -> ChangeHash {
        var bytes: [UInt8] = []
        for _ in 0..<4 { withUnsafeBytes(of: next()) { bytes.append(contentsOf: $0) } }
        return ChangeHash(bytes: bytes) ?? ChangeHash(bytes: [UInt8](repeating: 0, count: 32))!
    }
}
