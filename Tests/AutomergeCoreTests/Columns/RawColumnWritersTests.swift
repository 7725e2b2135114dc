import ByteEncodings
import TestSupport
import Testing

@testable import AutomergeCore

/// The rebuild's raw-buffer column writers must write exactly what the canonical encoders write:
/// every rebuilt change hash depends on it. Random sequences from small alphabets (so that runs,
/// literals, null runs and their boundaries all occur), including reuse after `reset()`.
@Suite struct RawColumnWritersTests {
    static func bytes(_ buffer: RawByteBuffer) -> [UInt8] { Array(buffer.bytes) }

    @Test func runWriterMatchesRLEEncoderForUnsignedValues() {
        var rng = SplitMix64(seed: 0x5eed_0001)
        var writer = RunColumnWriter(.unsigned)
        defer { writer.deallocate() }
        for _ in 0..<400 {
            let values = ColumnVectorTests.randomSequence(&rng, nullable: true, ColumnVectorTests.randomUInt)
            writer.reset()
            for value in values {
                if let value { writer.append(value, .none) } else { writer.appendNull(.none) }
            }
            writer.flush(.none)
            #expect(Self.bytes(writer.out) == ColumnVectorTests.encodeRLE(values), "\(values)")
        }
    }

    /// Literal runs longer than a one-byte header holds (64 values) move their values once.
    @Test func longLiteralRunsMatchRLEEncoder() {
        var writer = RunColumnWriter(.unsigned)
        defer { writer.deallocate() }
        for length in [63, 64, 65, 100, 300, 9_000] {
            for tail in [[], [nil], [UInt64(7), 7], [nil, 1]] as [[UInt64?]] {
                let values: [UInt64?] = (0..<length).map { UInt64($0) * 1_000 } + tail
                writer.reset()
                for value in values {
                    if let value { writer.append(value, .none) } else { writer.appendNull(.none) }
                }
                writer.flush(.none)
                #expect(Self.bytes(writer.out) == ColumnVectorTests.encodeRLE(values), "\(length) \(tail)")
            }
        }
    }

    @Test func deltaWriterMatchesDeltaEncoder() {
        var rng = SplitMix64(seed: 0x5eed_0002)
        var writer = DeltaColumnWriter()
        defer { writer.deallocate() }
        for _ in 0..<400 {
            let values = ColumnVectorTests.randomSequence(&rng, nullable: true) { rng in
                // Counters as the rebuild writes them: non-negative, often consecutive.
                Int64(ColumnVectorTests.randomUInt(&rng) >> 34)
            }
            writer.reset()
            for value in values {
                if let value { writer.append(value) } else { writer.appendNull() }
            }
            writer.flush()
            #expect(Self.bytes(writer.out) == ColumnVectorTests.encodeDelta(values), "\(values)")
        }
    }

    @Test func stringRunsMatchRLEEncoderByInternedIndex() {
        var rng = SplitMix64(seed: 0x5eed_0003)
        // A table of distinct byte strings (canonically equivalent ones stay distinct).
        var table: [String] = []
        for piece in ColumnVectorTests.stringPieces + ["a long key that does not fit inline", "b"] {
            if !table.contains(where: { Array($0.utf8) == Array(piece.utf8) }) { table.append(piece) }
        }
        var encoded: [UInt8] = []
        var starts: [Int32] = [0]
        for string in table {
            LEB128.appendUnsigned(UInt64(string.utf8.count), to: &encoded)
            encoded.append(contentsOf: string.utf8)
            starts.append(Int32(encoded.count))
        }
        var writer = RunColumnWriter(.string)
        defer { writer.deallocate() }
        encoded.withUnsafeBytes { bytes in
            starts.withUnsafeBufferPointer { starts in
                let strings = EncodedStrings(bytes: bytes, starts: starts)
                for _ in 0..<300 {
                    let indexes = ColumnVectorTests.randomSequence(&rng, nullable: true) { rng in Int.random(in: 0..<table.count, using: &rng) }
                    writer.reset()
                    for index in indexes {
                        if let index { writer.append(UInt64(index), strings) } else { writer.appendNull(strings) }
                    }
                    writer.flush(strings)
                    let expected = ColumnVectorTests.encodeRLE(indexes.map { $0.map { table[$0] } })
                    #expect(Self.bytes(writer.out) == expected, "\(indexes)")
                }
            }
        }
    }

    @Test func booleanWriterMatchesBooleanEncoder() {
        var rng = SplitMix64(seed: 0x5eed_0004)
        var writer = BooleanColumnWriter()
        defer { writer.deallocate() }
        for _ in 0..<400 {
            let values = ColumnVectorTests.randomSequence(&rng, nullable: false) { rng in Bool.random(using: &rng) }.map { $0 ?? false }
            writer.reset()
            for value in values { writer.append(value) }
            writer.flush()
            var reference = BooleanEncoder()
            for value in values { reference.append(value) }
            #expect(Self.bytes(writer.out) == reference.finish(), "\(values)")
            #expect(writer.sawTrue == reference.sawTrue)
        }
    }

    @Test func rawBufferWritesLEB128AndGrows() {
        var rng = SplitMix64(seed: 0x5eed_0005)
        var buffer = RawByteBuffer(capacity: 1)
        defer { buffer.deallocate() }
        var expected: [UInt8] = []
        for _ in 0..<2_000 {
            let unsigned = ColumnVectorTests.randomUInt(&rng)
            let signed = ColumnVectorTests.randomInt(&rng)
            buffer.appendUnsigned(unsigned)
            buffer.appendSigned(signed)
            LEB128.appendUnsigned(unsigned, to: &expected)
            LEB128.appendSigned(signed, to: &expected)
            #expect(RawByteBuffer.unsignedSize(unsigned) == LEB128.encodeUnsigned(unsigned).count)
            var signedBytes: [UInt8] = []
            LEB128.appendSigned(signed, to: &signedBytes)
            #expect(RawByteBuffer.signedSize(signed) == signedBytes.count)
        }
        #expect(Array(buffer.bytes) == expected)
    }

    /// A hash written into a raw buffer, or appended to an array, is its 32 bytes as given.
    @Test func hashBytesAreWrittenAsGiven() throws {
        var rng = SplitMix64(seed: 0x5eed_0006)
        var buffer = RawByteBuffer(capacity: 16)
        defer { buffer.deallocate() }
        var expected: [UInt8] = []
        for _ in 0..<50 {
            let bytes = (0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let hash = try #require(ChangeHash(bytes: bytes))
            #expect(hash.bytes == bytes)
            buffer.append(hash)
            expected += bytes
        }
        #expect(Array(buffer.bytes) == expected)
    }

    /// A literal's header filled into its slot anywhere, in a buffer full or nearly so, keeps every
    /// byte after it (growing the buffer while they move must not drop any).
    @Test func literalHeaderSlotKeepsTheBytesAtAnyFill() {
        for value in [Int64(-1), -64, -65, -300, -1_000_000] {
            var header: [UInt8] = []
            LEB128.appendSigned(value, to: &header)
            for fill in 0...40 {
                for offset in 0...fill {
                    var buffer = RawByteBuffer(capacity: 16)
                    defer { buffer.deallocate() }
                    let bytes = (0..<fill).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 1) }
                    let slotted = Array(bytes[0..<offset]) + [0] + Array(bytes[offset...])
                    slotted.withUnsafeBytes { buffer.append($0) }
                    buffer.fillSigned(value, slot: offset)
                    #expect(Array(buffer.bytes) == Array(bytes[0..<offset]) + header + Array(bytes[offset...]), "fill \(fill) offset \(offset)")
                }
            }
        }
    }

    /// Every change a rebuild writes with the raw-buffer encoder, decoded and encoded again by
    /// `ChangeEncoder`, gives the same bytes (the rebuild's heads check already ties them to the
    /// stored hashes; this names the change that differs).
    @Test func rebuiltChangesMatchChangeEncoder() async throws {
        try await offPool {
            let (document, _) = try StreamingRebuildTests.generate(changes: 40)
            guard case .document(let bytes) = try #require(try ChunkReader.readAll(try document.save()).first) else {
                throw AutomergeError.invalidDocument("not a document")
            }
            let chunk = try DocumentChunk(bytes)
            var checked = 0
            try chunk.rebuildChanges { (rebuilt: RebuiltChange) throws(AutomergeError) in
                let change = try Change(chunk: rebuilt.chunk)
                var encoder = ChangeEncoder()
                let hash = encoder.encode(change)
                #expect(encoder.chunk == rebuilt.chunk.bytes)
                #expect(hash == rebuilt.metadata.hash)
                checked += 1
            }
            #expect(checked == document.graph.count)
        }
    }
}
