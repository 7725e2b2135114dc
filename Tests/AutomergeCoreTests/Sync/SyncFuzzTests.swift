import ByteEncodings
import TestSupport
import Testing

@testable import AutomergeCore

/// Random corruption of valid inputs: every decoder must throw or return a value, never trap
/// or hang, and anything it accepts must re-encode to exactly the bytes it was given.
@Suite struct SyncFuzzTests {
    static func corpus() -> [[UInt8]] {
        var corpus: [[UInt8]] = [
            SyncCodecTests.messageVector,
            SyncCodecTests.messageVector + [0x02, 0x01, 0x02],
            SyncCodecTests.messageVector + [0x02, 0x02, 0x84],
        ]
        if SyncFixtures.available, let messages = try? SyncFixtures.allMessages() {
            corpus += messages.compactMap { Hex.decode($0.message.hex) }
        }
        return corpus
    }

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        let rounds = Int.random(in: 1...3, using: &rng)
        for _ in 0..<rounds {
            switch Int.random(in: 0..<6, using: &rng) {
            case 0 where !bytes.isEmpty:  // flip a bit
                let index = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            case 1 where !bytes.isEmpty:  // replace a byte, favouring LEB-breaking values
                let index = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[index] = [0x00, 0x7f, 0x80, 0xff, UInt8.random(in: 0...255, using: &rng)].randomElement(using: &rng) ?? 0
            case 2:  // truncate
                bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng)))
            case 3:  // insert random bytes
                let index = Int.random(in: 0...bytes.count, using: &rng)
                let count = Int.random(in: 1...8, using: &rng)
                bytes.insert(contentsOf: (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: index)
            case 4 where !bytes.isEmpty:  // delete a range
                let start = Int.random(in: 0..<bytes.count, using: &rng)
                let end = min(bytes.count, start + Int.random(in: 1...16, using: &rng))
                bytes.removeSubrange(start..<end)
            default:  // append junk
                bytes += (0..<Int.random(in: 1...4, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            }
        }
        return bytes
    }

    @Test func messagesSurviveMutation() async throws {
        try await offPool {
            let corpus = Self.corpus()
            var rng = SplitMix64(seed: 0xa17e_5eed)
            var accepted = 0
            var rejected = 0
            for _ in 0..<6_000 {
                let seed = corpus[Int.random(in: 0..<corpus.count, using: &rng)]
                let bytes = Self.mutate(seed, &rng)
                do {
                    let message = try SyncMessage.decode(bytes)
                    accepted += 1
                    #expect(message.encode() == bytes)
                    #expect(try SyncMessage.decode(message.encode()) == message)
                    for have in message.have { #expect(try BloomFilter(decoding: have.bloom.bytes) == have.bloom) }
                } catch {
                    rejected += 1
                }
            }
            // Both outcomes must occur, or the mutations are not exercising the decoder.
            #expect(accepted > 0)
            #expect(rejected > 0)
        }
    }

    @Test func bloomFiltersSurviveMutation() async throws {
        try await offPool {
            var rng = SplitMix64(seed: 0xb100)
            let seeds: [[UInt8]] = (1...40).map { count in
                BloomFilter(hashes: (0..<count).map { _ in rng.nextHash() }).bytes
            }
            let probe = rng.nextHash()
            var accepted = 0
            for _ in 0..<4_000 {
                let bytes = Self.mutate(seeds[Int.random(in: 0..<seeds.count, using: &rng)], &rng)
                if let filter = try? BloomFilter(decoding: bytes) {
                    #expect(filter.bytes == bytes)
                    _ = filter.contains(probe)
                    accepted += 1
                }
            }
            #expect(accepted > 0)
        }
    }

    @Test func syncStatesSurviveMutation() async throws {
        try await offPool {
            var rng = SplitMix64(seed: 0x5747)
            let seeds: [[UInt8]] = (0...4).map { count in
                SyncStateCodec.encode(sharedHeads: (0..<count).map { _ in rng.nextHash() })
            }
            var accepted = 0
            for _ in 0..<3_000 {
                let bytes = Self.mutate(seeds[Int.random(in: 0..<seeds.count, using: &rng)], &rng)
                if let heads = try? SyncStateCodec.decode(bytes) {
                    // Trailing bytes are tolerated, so the input must start with exactly what was read.
                    var writer = ByteWriter()
                    writer.writeByte(SyncStateCodec.typeByte)
                    writer.writeHashArray(heads)
                    #expect(Array(bytes.prefix(writer.count)) == writer.bytes)
                    accepted += 1
                }
            }
            #expect(accepted > 0)
        }
    }

    @Test(.enabled(if: SyncFixtures.slowSyncAvailable, "upstream/slowSyncMessage.amrgsync not found"))
    func largeMessageSurvivesMutation() async throws {
        try await offPool {
            let original = try SyncFixtures.bytes(SyncFixtures.slowSyncMessage)
            var rng = SplitMix64(seed: 0x510e)
            for _ in 0..<40 {
                var bytes = original
                // Corrupt the header, the Bloom filter or a change length, where structure lives.
                let index = Int.random(in: 0..<min(bytes.count, 4_096), using: &rng)
                bytes[index] ^= UInt8.random(in: 1...255, using: &rng)
                if Bool.random(using: &rng) { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng))) }
                if let message = try? SyncMessage.decode(bytes) { #expect(message.encode() == bytes) }
            }
        }
    }
}
