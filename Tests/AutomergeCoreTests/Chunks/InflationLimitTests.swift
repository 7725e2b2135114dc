import ByteEncodings
import CompressNIO
import Crypto
import NIOCore
import TestSupport
import Testing

@testable import AutomergeCore

/// Attack (b): compressed changes that inflate far beyond their size. The bound is checked while
/// inflating, per stream and for the whole input.
@Suite struct InflationLimitTests {
    /// A type-2 chunk whose body inflates to `size` zero bytes, with the checksum of that inflated
    /// form (not a valid change: the bound must trip before anything decodes it).
    static func bomb(inflatingTo size: Int) -> [UInt8] {
        let inflated = [UInt8](repeating: 0, count: size)
        let body = Deflate.deflate(inflated)
        var header: [UInt8] = [ChunkType.change.rawValue]
        LEB128.appendUnsigned(UInt64(size), to: &header)
        var hasher = SHA256()
        hasher.update(data: header)
        hasher.update(data: inflated)
        let checksum = Array(hasher.finalize().prefix(4))
        var chunk: [UInt8] = [0x85, 0x6f, 0x4a, 0x83] + checksum + [ChunkType.compressedChange.rawValue]
        LEB128.appendUnsigned(UInt64(body.count), to: &chunk)
        return chunk + body
    }

    static func underlying(_ body: () throws -> Void) -> AutomergeError? {
        do {
            try body()
            return nil
        } catch let error as AutomergeError {
            return error.underlying
        } catch {
            return nil
        }
    }

    @Test func oneStreamStopsAtItsBound() {
        let limits = InflationLimits(perStream: 1 << 20, total: 8 << 20)
        var budget = InflationBudget(limits)
        let body = Deflate.deflate([UInt8](repeating: 0, count: 4 << 20))
        #expect(throws: AutomergeError.inflatedSizeExceeded(limit: 1 << 20)) { try Deflate.inflate(body[...], budget: &budget) }
    }

    @Test func streamsShareTheTotal() throws {
        var budget = InflationBudget(InflationLimits(perStream: 4 << 20, total: 5 << 20))
        let body = Deflate.deflate([UInt8](repeating: 1, count: 3 << 20))
        #expect(try Deflate.inflate(body[...], budget: &budget).count == 3 << 20)
        #expect(budget.remaining == 2 << 20)
        #expect(throws: AutomergeError.inflatedSizeExceeded(limit: 2 << 20)) { try Deflate.inflate(body[...], budget: &budget) }
    }

    /// Deflating in pieces gives the bytes of a one-shot compression (what the reference's
    /// columns are compared against), for inputs of one piece, several pieces and a ragged end.
    @Test(arguments: [300, Deflate.deflatePiece, 3 * Deflate.deflatePiece + 12_345])
    func piecewiseDeflateEqualsOneShot(size: Int) throws {
        var generator = SplitMix64(seed: UInt64(size))
        // Compressible but not trivially: a small alphabet with runs.
        let bytes = (0..<size).map { _ in UInt8(truncatingIfNeeded: generator.next() % 7 &* 13) }
        var input = ByteBufferAllocator().buffer(capacity: bytes.count)
        input.writeBytes(bytes)
        var oneShot = try input.compress(with: .deflate())
        let expected = oneShot.readBytes(length: oneShot.readableBytes) ?? []
        let pieces = Deflate.deflate(bytes)
        #expect(pieces == expected)
        var budget = InflationBudget(.storage)
        #expect(try Deflate.inflate(pieces[...], budget: &budget) == bytes)
    }

    @Test func roundTripAndCorruptStreamsStillBehave() throws {
        var budget = InflationBudget(.syncMessage)
        let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 7) }
        let body = Deflate.deflate(data)
        #expect(try Deflate.inflate(body[...], budget: &budget) == data)
        #expect(throws: AutomergeError.badDeflateStream) { try Deflate.inflate((body + [1, 2, 3])[...], budget: &budget) }
        #expect(throws: AutomergeError.badDeflateStream) { try Deflate.inflate([0xff, 0xff, 0xff][...], budget: &budget) }
    }

    /// A sync message's change that inflates past the per-change bound is refused with the bound,
    /// not inflated whole (today: up to 1 GiB per stream, then a checksum error).
    @Test func syncMessageBombIsRefusedWhileInflating() {
        let limit = InflationLimits.syncMessage.perStream
        let message = SyncMessage(changes: [Self.bomb(inflatingTo: limit + (1 << 20))])
        var graph = ChangeGraph()
        var state = SyncState()
        let error = Self.underlying { try graph.receiveSyncMessage(&state, message) }
        #expect(error == .inflatedSizeExceeded(limit: limit))
        #expect(graph.count == 0)
    }

    /// Several changes each under the per-change bound still meet the per-message total.
    @Test func syncMessageTotalIsBounded() {
        let limits = InflationLimits.syncMessage
        let each = limits.perStream - (1 << 20)
        let count = limits.total / each + 1
        let stream = (0..<count).flatMap { _ in Self.bomb(inflatingTo: each) }
        var reader = ChunkReader(stream, inflation: limits)
        let error = Self.underlying { while try reader.next() != nil {} }
        guard case .inflatedSizeExceeded(let limit)? = error else {
            Issue.record("expected the total to trip, got \(String(describing: error))")
            return
        }
        #expect(limit < each)
    }

    /// Storage keeps its generous bound: a large but legitimate input loads as before.
    @Test func storageLimitsAreLarger() {
        #expect(InflationLimits.storage.perStream > InflationLimits.syncMessage.total)
    }
}
