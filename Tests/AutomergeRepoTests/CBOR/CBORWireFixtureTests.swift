import AutomergeCore
import ByteEncodings
import TestSupport
import Testing

@testable import AutomergeRepo

/// Every frame the reference JS client and server exchanged (`wire/*.jsonl`).
@Suite(.enabled(if: Fixtures.wireAvailable, Fixtures.skipMessage))
struct CBORWireFixtureTests {
    @Test func decodesEveryFrameLikeCbor2() throws {
        let frames = try Fixtures.wireFrames()
        #expect(frames.count >= 200)
        for frame in frames {
            let value = try CBORDecoder.decode(frame.bytes)
            #expect(cborMismatch(value, frame.decoded) == nil, "\(frame.file)#\(frame.seq)")
        }
    }

    /// cbor-x writes every map with a 16-bit head, so encoding in `.cborX` style reproduces each frame
    /// byte for byte, and the shortest style differs only in those heads.
    @Test func reencodesEveryFrameByteForByte() throws {
        for frame in try Fixtures.wireFrames() {
            let value = try CBORDecoder.decode(frame.bytes)
            #expect(Hex.encode(CBOREncoder(mapHeaderStyle: .cborX).encode(value)) == Hex.encode(frame.bytes), "\(frame.file)#\(frame.seq)")
            let shortest = CBOREncoder().encode(value)
            #expect(try CBORDecoder.decode(shortest) == value)
            #expect(shortest.count == frame.bytes.count - 2 * mapCount(value))
        }
    }

    /// Thousands of random corruptions of real frames: errors only, never a crash or a hang.
    @Test func mutatedFramesNeverCrash() throws {
        let frames = try Fixtures.wireFrames()
        var rng = SplitMix64(seed: 0x4772_6f75_6e64)
        var failures = 0
        for _ in 0..<25 {
            for frame in frames {
                let mutated = mutate(frame.bytes, using: &rng)
                do {
                    _ = try CBORDecoder.decode(mutated)
                } catch {
                    failures += 1
                }
                try checkRoundTripOrError(mutated)
            }
        }
        // Most corruptions must be caught; some (e.g. a flipped letter inside a peer id) stay valid.
        #expect(failures > frames.count * 25 / 4)
    }

    private func mapCount(_ value: CBORValue) -> Int {
        switch value {
        case .map(let entries): return 1 + entries.reduce(0) { $0 + mapCount($1.key) + mapCount($1.value) }
        case .array(let items): return items.reduce(0) { $0 + mapCount($1) }
        case .tagged(_, let inner): return mapCount(inner)
        default: return 0
        }
    }
}
