import NIOCore
import TestSupport
import Testing

@testable import AutomergeRepo

/// Decoding a frame in the transport's buffer (issue 14, attack (c)): a large ephemeral payload stays
/// a slice of the frame, and every message decodes exactly as it does from an array.
@Suite struct RepoMessageInPlaceDecodingTests {
    static let large = RepoMessage.inPlaceByteStringSize

    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    static func ephemeral(data: [UInt8], extra: [CBORMapEntry] = []) -> [UInt8] {
        let message = EphemeralMessage(senderId: "a", targetId: "b", documentId: "4NMNnkMhL8jXrdJ9jamS58PAVdXu", count: 3, sessionId: "s", data: data)
        guard case .map(let entries) = RepoMessage.ephemeral(message).cbor else { return [] }
        return CBOREncoder().encode(.map(extra + entries))
    }

    /// The frame as the transport holds it: a slice of a larger read buffer.
    static func frame(_ bytes: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer(bytes: [0xEE, 0xEE, 0xEE] + bytes + [0xEE])
        buffer.moveReaderIndex(forwardBy: 3)
        buffer.moveWriterIndex(to: buffer.writerIndex - 1)
        return buffer
    }

    @Test func aLargeEphemeralPayloadStaysInTheFrame() throws {
        let payload = Self.bytes(Self.large + 17, seed: 1)
        let wire = Self.ephemeral(data: payload)
        let decoded = try RepoMessage(decoding: Self.frame(wire))
        #expect(decoded == (try RepoMessage(decoding: wire)))
        guard case .ephemeral(let message) = decoded else {
            Issue.record("not an ephemeral: \(decoded.type)")
            return
        }
        #expect(message.payload.isFrameSlice)
        #expect(message.data == payload)
        #expect(message.payload.count == payload.count)
        // Re-encoded for a relay, it is the same message.
        #expect(RepoMessage.ephemeral(message).encoded() == wire)
    }

    @Test func smallPayloadsAndOtherMessagesAreCopiedAsFromAnArray() throws {
        let small = Self.ephemeral(data: Self.bytes(Self.large - 1, seed: 2))
        let sync = RepoMessage.sync(DocumentSyncMessage(senderId: "a", targetId: "b", documentId: "d", data: Self.bytes(Self.large * 2, seed: 3)))
            .encoded()
        let unknown = CBOREncoder().encode(
            .map([CBORMapEntry("type", .text("future")), CBORMapEntry("blob", .bytes(Self.bytes(Self.large, seed: 4)))])
        )
        for wire in [small, sync, unknown] {
            let decoded = try RepoMessage(decoding: Self.frame(wire))
            #expect(decoded == (try RepoMessage(decoding: wire)))
            if case .ephemeral(let message) = decoded { #expect(!message.payload.isFrameSlice) }
        }
        if case .sync(let message) = try RepoMessage(decoding: Self.frame(sync)) { #expect(message.data.count == Self.large * 2) }
    }

    /// The payload is found by wire position: byte strings before it (nested, in keys, indefinite)
    /// and duplicate `data` keys (the last wins) do not mislead it.
    @Test func thePayloadIsTheLastDataFieldWhateverPrecedesIt() throws {
        let payload = Self.bytes(Self.large + 5, seed: 5)
        let decoy = Self.bytes(Self.large + 9, seed: 6)
        let extras: [[CBORMapEntry]] = [
            [
                CBORMapEntry(
                    "x",
                    .array([.bytes([1]), .tagged(tag: 1, value: .bytes(decoy)), .map([CBORMapEntry(key: .bytes([2]), value: .bytes([]))])])
                )
            ],
            [CBORMapEntry(key: .bytes(decoy), value: .bytes(decoy))],
        ]
        for extra in extras {
            let wire = Self.ephemeral(data: payload, extra: extra)
            let decoded = try RepoMessage(decoding: Self.frame(wire))
            #expect(decoded == (try RepoMessage(decoding: wire)))
            guard case .ephemeral(let message) = decoded else { continue }
            #expect(message.data == payload)
        }
        // A later small `data` wins over an earlier large one, and the other way round.
        for (first, last) in [(decoy, [UInt8]([1, 2, 3])), ([1, 2, 3], decoy)] {
            let message = EphemeralMessage(senderId: "a", targetId: "b", documentId: "d", count: 1, sessionId: "s", data: last)
            guard case .map(let entries) = RepoMessage.ephemeral(message).cbor else { continue }
            let wire = CBOREncoder().encode(.map([CBORMapEntry("data", .bytes(first))] + entries))
            let decoded = try RepoMessage(decoding: Self.frame(wire))
            #expect(decoded == (try RepoMessage(decoding: wire)))
            guard case .ephemeral(let decodedMessage) = decoded else { continue }
            #expect(decodedMessage.data == last)
            #expect(decodedMessage.payload.isFrameSlice == (last.count >= Self.large))
        }
    }

    /// Mutated frames decode (or fail) the same way from the buffer and from an array.
    @Test func mutatedFramesDecodeAsFromAnArray() throws {
        var random = SplitMix64(seed: 14)
        let originals = [
            Self.ephemeral(data: Self.bytes(Self.large + 3, seed: 7)),
            RepoMessage.sync(DocumentSyncMessage(senderId: "a", targetId: "b", documentId: "d", data: Self.bytes(Self.large, seed: 8))).encoded(),
        ]
        for round in 0..<300 {
            var wire = originals[round % originals.count]
            // Mutate the head region, where the structure is (the payload is opaque).
            let region = min(wire.count, 160)
            for _ in 0...(random.next() % 3) {
                let index = Int(random.next() % UInt64(region))
                wire[index] = UInt8(truncatingIfNeeded: random.next())
            }
            if random.next() % 4 == 0 { wire.removeLast(Int(random.next() % 40)) }
            let fromArray = Result { () throws(RepoMessageError) in try RepoMessage(decoding: wire) }
            let fromBuffer = Result { () throws(RepoMessageError) in try RepoMessage(decoding: Self.frame(wire)) }
            #expect(fromArray == fromBuffer, "round \(round)")
        }
    }

    @Test func theDecoderReportsEveryByteStringInWireOrder() throws {
        let big = Self.bytes(Self.large, seed: 9)
        let wire = CBOREncoder().encode(.array([.bytes([1]), .map([CBORMapEntry(key: .bytes(big), value: .text("t"))]), .bytes(big)]))
        // An indefinite byte string is joined, never left in place.
        let indefinite: [UInt8] = [0x82, 0x5F, 0x41, 0x01, 0xFF] + CBOREncoder().encode(.bytes(big))
        var strings: [Range<Int>?] = []
        let value = try wire.withUnsafeBytes { try CBORDecoder().decode($0, leavingInPlace: Self.large, strings: &strings) }
        #expect(value == .array([.bytes([1]), .map([CBORMapEntry(key: .bytes([]), value: .text("t"))]), .bytes([])]))
        #expect(strings.count == 3 && strings[0] == nil)
        for range in strings.dropFirst() {
            let range = try #require(range)
            #expect(Array(wire[range]) == big)
        }
        let joined = try indefinite.withUnsafeBytes { try CBORDecoder().decode($0, leavingInPlace: 1, strings: &strings) }
        #expect(joined == .array([.bytes([1]), .bytes([])]))
        #expect(strings.count == 2 && strings[0] == nil && strings[1] != nil)
    }
}
