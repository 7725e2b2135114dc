import ByteEncodings
import Foundation
import TestSupport
import Testing

@testable import AutomergeCore

/// Column codecs against the worked examples of docs/binary-format.md §4.8, the canonical-form rules (§4.3) on
/// random input, and malformed columns. No fixtures needed.
@Suite struct ColumnVectorTests {
    static func hex(_ string: String) -> [UInt8] { Hex.decode(string.replacingOccurrences(of: " ", with: "")) ?? [] }

    // MARK: - Encode/decode helpers

    static func encodeRLE<V: RLEValue>(_ values: [V?]) -> [UInt8] {
        var encoder = RLEEncoder<V>()
        for value in values { encoder.append(value) }
        return encoder.finish()
    }

    /// Reads `count` values and reports whether the column was consumed exactly.
    static func decodeRLE<V: RLEValue>(_ bytes: [UInt8], count: Int, as _: V.Type = V.self) throws(AutomergeError) -> (values: [V?], atEnd: Bool) {
        var decoder = RLEDecoder<V>(ByteReader(bytes))
        var values: [V?] = []
        for _ in 0..<count { values.append(try decoder.next()) }
        return (values, decoder.isAtEnd)
    }

    static func encodeDelta(_ values: [Int64?]) -> [UInt8] {
        var encoder = DeltaEncoder()
        for value in values { encoder.append(value) }
        return encoder.finish()
    }

    static func decodeDelta(_ bytes: [UInt8], count: Int) throws(AutomergeError) -> (values: [Int64?], atEnd: Bool) {
        var decoder = DeltaDecoder(ByteReader(bytes))
        var values: [Int64?] = []
        for _ in 0..<count { values.append(try decoder.next()) }
        return (values, decoder.isAtEnd)
    }

    static func encodeBool(_ values: [Bool]) -> [UInt8] {
        var encoder = BooleanEncoder()
        for value in values { encoder.append(value) }
        return encoder.finish()
    }

    static func decodeBool(_ bytes: [UInt8], count: Int) throws(AutomergeError) -> (values: [Bool], atEnd: Bool) {
        var decoder = BooleanDecoder(ByteReader(bytes))
        var values: [Bool] = []
        for _ in 0..<count { values.append(try decoder.next()) }
        return (values, decoder.isAtEnd)
    }

    /// Strings compared by UTF-8 bytes (Swift's `==` would merge canonically equivalent ones).
    static func utf8(_ values: [String?]) -> [[UInt8]?] { values.map { $0.map { Array($0.utf8) } } }

    // MARK: - docs/binary-format.md §4.8 table

    @Test func uintRows() throws {
        let rows: [([UInt64?], String)] = [
            ([0, 0, 0, nil, nil, 1, 2, 3], "03 00 00 02 7d 01 02 03"),
            ([0, 1, 2, 2, 2], "7e 00 01 03 02"),  // group counts
            ([5], "7f 05"),
            ([7, 7], "02 07"),
            ([1, 2, 2, 3], "7f 01 02 02 7f 03"),
            ([1, nil], "7f 01 00 01"),
            ([nil, nil, nil], ""),
            ([], ""),
        ]
        for (values, bytes) in rows {
            #expect(Self.encodeRLE(values) == Self.hex(bytes), "\(values)")
            let decoded = try Self.decodeRLE(Self.hex(bytes), count: values.count, as: UInt64.self)
            #expect(decoded.values == values)
            #expect(decoded.atEnd)
        }
    }

    @Test func stringRow() throws {
        let values: [String?] = ["a", "", nil, "boo", "boo"]
        let bytes = Self.hex("7e 01 61 00 00 01 02 03 62 6f 6f")
        #expect(Self.encodeRLE(values) == bytes)
        let decoded = try Self.decodeRLE(bytes, count: values.count, as: String.self)
        #expect(Self.utf8(decoded.values) == Self.utf8(values))
        #expect(decoded.atEnd)
        let allNull = Self.encodeRLE([String?](repeating: nil, count: 4))
        #expect(allNull.isEmpty)
    }

    @Test func deltaRow() throws {
        let values: [Int64?] = [3, 4, 5, 6, 9, 7, 8]
        let bytes = Self.hex("7f 03 03 01 7d 03 7e 01")
        #expect(Self.encodeDelta(values) == bytes)
        let decoded = try Self.decodeDelta(bytes, count: values.count)
        #expect(decoded.values == values)
        #expect(decoded.atEnd)
        #expect(Self.encodeDelta([nil, nil]).isEmpty)
    }

    @Test func booleanRows() throws {
        for (values, bytes) in [([true, true, false, false, false], "00 02 03"), ([false, false, true], "02 01")] {
            #expect(Self.encodeBool(values) == Self.hex(bytes))
            let decoded = try Self.decodeBool(Self.hex(bytes), count: values.count)
            #expect(decoded.values == values)
            #expect(decoded.atEnd)
        }
        // A column of n falses is the single uLEB n.
        #expect(Self.encodeBool([Bool](repeating: false, count: 200)) == [0xc8, 0x01])
    }

    // MARK: - docs/binary-format.md §4.8 annotated change

    static let specActor = ActorId(Hex.decode("da0a5454424349848500a5ebe1acd94d") ?? [])

    static let annotatedChange = Change(
        actor: specActor,
        seq: 1,
        startOp: 1,
        time: 1_675_313_094_465,
        message: "change 1",
        ops: [Op(object: .root, key: .map("a"), action: .makeMap)]
    )

    /// The body exactly as docs/binary-format.md §4.8 annotates it, field by field.
    static let annotatedBody: [UInt8] =
        hex("00") + hex("10") + specActor.bytes + hex("01") + hex("01") + hex("c1 be c4 83 e1 30")
        + [0x08] + Array("change 1".utf8) + hex("00")
        + hex("05 15 03 34 01 42 02 56 02 70 02")
        + hex("7f 01 61") + hex("01") + hex("7f 00") + hex("7f 00") + hex("7f 00")

    @Test func annotatedChangeEncodesToTheSpecBytes() throws {
        #expect(Self.annotatedBody.count == 57)
        let chunk = Self.annotatedChange.encodeChunk()
        #expect(Array(chunk.body) == Self.annotatedBody)
        #expect(Array(chunk.bytes.prefix(10)) == Self.hex("85 6f 4a 83 9a c3 d7 30 01 39"))
        #expect(chunk.hash.hex == "9ac3d730f262da35e71db591b9e8150de9b02826daf75006f2298916adec6e0b")
        // And back: the spec bytes decode to the same change, and the cheap parse agrees.
        let decoded = try Change(chunk: chunk)
        #expect(decoded == Self.annotatedChange)
        let metadata = try ChangeMetadata(chunk: chunk)
        #expect(metadata.maxOp == 1)
        #expect(metadata.time == 1_675_313_094_465)
        #expect(metadata.message == "change 1")
    }

    @Test(.needsFixtures) func annotatedChangeEqualsTheFixture() throws {
        let chunks = try ChunkReader.readAll(try Fixtures.bytes("upstream/two_change_chunks.automerge"))
        guard case .change(let first) = chunks.first else {
            Issue.record("two_change_chunks.automerge does not start with a change")
            return
        }
        #expect(first.bytes == Self.annotatedChange.encodeChunk().bytes)
    }

    // MARK: - docs/binary-format.md §2 empty document

    static let emptyDocument = hex("85 6f 4a 83 b8 1a 95 44 00 04 00 00 00 00")

    @Test func emptyDocumentChunk() throws {
        var reader = ChunkReader(Self.emptyDocument)
        let chunk = try reader.next()
        #expect(reader.isAtEnd)
        #expect(reader.counts.document == 1)
        guard case .document(let bytes) = chunk else {
            Issue.record("not read as a document chunk")
            return
        }
        #expect(Array(bytes.body) == [0, 0, 0, 0])
        let document = try DocumentChunk(bytes)
        #expect(document.actors.isEmpty)
        #expect(document.heads.isEmpty)
        #expect(try document.rebuildChanges().isEmpty)
        var graph = ChangeGraph()
        let summary = try graph.load(Self.emptyDocument)
        #expect(graph.heads.isEmpty)
        #expect(graph.count == 0)
        #expect(summary.chunks.document == 1)
        // With a flipped checksum byte it is rejected.
        var corrupt = Self.emptyDocument
        corrupt[5] ^= 1
        #expect(throws: AutomergeError.self) { try ChunkReader.readAll(corrupt) }
    }

    // MARK: - Canonical form checker (docs/binary-format.md §4.3), written independently of the encoder

    enum Run<V> {
        case repeated(Int64, V)
        case literal([V])
        case nulls(UInt64)
    }

    static func parseRuns<V: RLEValue>(_ bytes: [UInt8], as _: V.Type = V.self) throws(AutomergeError) -> [Run<V>] {
        var reader = ByteReader(bytes)
        var runs: [Run<V>] = []
        while !reader.isAtEnd {
            let count = try reader.readSLEB()
            if count > 0 {
                runs.append(.repeated(count, try V.read(from: &reader)))
            } else if count < 0 {
                var values: [V] = []
                for _ in 0..<(-count) { values.append(try V.read(from: &reader)) }
                runs.append(.literal(values))
            } else {
                runs.append(.nulls(try reader.readULEB()))
            }
        }
        return runs
    }

    /// Every violation of the canonical rules, as text (empty = canonical).
    static func canonicalViolations<V: RLEValue>(_ bytes: [UInt8], as _: V.Type = V.self) throws(AutomergeError) -> [String] {
        let runs: [Run<V>] = try parseRuns(bytes)
        var problems: [String] = []
        var hasValue = false
        for (index, run) in runs.enumerated() {
            switch run {
            case .repeated(let count, _):
                hasValue = true
                if count < 2 { problems.append("repeat run \(index) of \(count)") }
            case .literal(let values):
                hasValue = true
                if values.isEmpty { problems.append("empty literal \(index)") }
                for (a, b) in zip(values, values.dropFirst()) where a.sameEncoding(as: b) {
                    problems.append("literal \(index) holds equal neighbours")
                }
            case .nulls(let count):
                if count == 0 { problems.append("empty null run \(index)") }
            }
            guard index > 0 else { continue }
            switch (runs[index - 1], run) {
            case (.literal, .literal): problems.append("adjacent literal runs at \(index)")
            case (.nulls, .nulls): problems.append("adjacent null runs at \(index)")
            default: break
            }
            // Two value runs meeting on equal values would have been one run.
            if let last = lastValue(runs[index - 1]), let first = firstValue(run), last.sameEncoding(as: first) {
                problems.append("runs \(index - 1) and \(index) meet on equal values")
            }
        }
        if !hasValue && !bytes.isEmpty { problems.append("all-null column is not empty") }
        return problems
    }

    static func firstValue<V>(_ run: Run<V>) -> V? {
        switch run {
        case .repeated(_, let value): return value
        case .literal(let values): return values.first
        case .nulls: return nil
        }
    }

    static func lastValue<V>(_ run: Run<V>) -> V? {
        switch run {
        case .repeated(_, let value): return value
        case .literal(let values): return values.last
        case .nulls: return nil
        }
    }

    @Test func checkerRejectsNonCanonicalColumns() throws {
        // The checker itself must be able to fail.
        let bad: [(String, String)] = [
            ("01 05", "repeat of 1"),
            ("7e 05 05", "equal neighbours"),
            ("7f 05 7f 06", "adjacent literals"),
            ("00 00 7f 01", "empty null run"),
            ("00 01 00 01 7f 01", "adjacent null runs"),
            ("00 03", "all null"),
            ("7e 01 02 02 02", "literal ends with the next run's value"),
        ]
        for (bytes, label) in bad {
            #expect(try !Self.canonicalViolations(Self.hex(bytes), as: UInt64.self).isEmpty, "\(label)")
        }
        #expect(try Self.canonicalViolations(Self.hex("03 00 00 02 7d 01 02 03"), as: UInt64.self).isEmpty)
    }

    // MARK: - Random round trips

    /// Values from a small alphabet, so that repeats, literals and null runs all occur.
    static func randomSequence<V>(_ rng: inout SplitMix64, nullable: Bool, _ make: (inout SplitMix64) -> V) -> [V?] {
        let length = Int.random(in: 0...60, using: &rng)
        let nullRate = nullable ? Int.random(in: 0...4, using: &rng) : 0
        var values: [V?] = []
        var alphabet: [V] = (0..<Int.random(in: 1...6, using: &rng)).map { _ in make(&rng) }
        while values.count < length {
            if Int.random(in: 0..<10, using: &rng) < nullRate {
                values.append(contentsOf: [V?](repeating: nil, count: Int.random(in: 1...4, using: &rng)))
                continue
            }
            if Int.random(in: 0..<8, using: &rng) == 0 { alphabet.append(make(&rng)) }
            let value = alphabet[Int.random(in: 0..<alphabet.count, using: &rng)]
            values.append(contentsOf: [V?](repeating: value, count: Int.random(in: 0..<4, using: &rng) == 0 ? Int.random(in: 2...5, using: &rng) : 1))
        }
        return values
    }

    static func randomUInt(_ rng: inout SplitMix64) -> UInt64 {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return UInt64.random(in: 0...3, using: &rng)
        case 1: return [0, 127, 128, 16383, 16384, UInt64.max, UInt64.max - 1].randomElement(using: &rng) ?? 0
        default: return rng.next() >> UInt64.random(in: 0...63, using: &rng)
        }
    }

    static func randomInt(_ rng: inout SplitMix64) -> Int64 {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return Int64.random(in: -3...3, using: &rng)
        case 1: return [0, -1, 63, 64, -64, -65, Int64.max, Int64.min].randomElement(using: &rng) ?? 0
        default: return Int64(bitPattern: rng.next()) >> Int64.random(in: 0...63, using: &rng)
        }
    }

    static let stringPieces = ["", "a", "b", "boo", "é", "e\u{301}", "🇬🇧", "👨‍👩‍👧", "\u{0}", "日本"]

    static func randomString(_ rng: inout SplitMix64) -> String {
        (0..<Int.random(in: 0...3, using: &rng)).map { _ in stringPieces.randomElement(using: &rng) ?? "" }.joined()
    }

    static func randomScalar(_ rng: inout SplitMix64) -> ScalarValue {
        switch Int.random(in: 0..<10, using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .uint(randomUInt(&rng))
        case 3: return .int(randomInt(&rng))
        case 4:
            return .f64(
                Double(
                    bitPattern: Bool.random(using: &rng)
                        ? rng.next() : [0, 1.5, -0.0, .nan, .infinity][Int.random(in: 0..<5, using: &rng)].bitPattern
                )
            )
        case 5: return .string(randomString(&rng))
        case 6: return .bytes((0..<Int.random(in: 0...5, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        case 7: return .counter(randomInt(&rng))
        case 8: return .timestamp(randomInt(&rng))
        default:
            return .unknown(
                code: UInt8.random(in: 10...15, using: &rng),
                bytes: (0..<Int.random(in: 0...3, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            )
        }
    }

    @Test func uintColumnsRoundTripCanonically() throws {
        var rng = SplitMix64(seed: 0xc01)
        for _ in 0..<500 {
            let values = Self.randomSequence(&rng, nullable: true, Self.randomUInt)
            let bytes = Self.encodeRLE(values)
            let decoded = try Self.decodeRLE(bytes, count: values.count, as: UInt64.self)
            #expect(decoded.values == values)
            #expect(decoded.atEnd)
            #expect(try Self.canonicalViolations(bytes, as: UInt64.self) == [], "\(values)")
            #expect(values.contains { $0 != nil } || bytes.isEmpty)
        }
    }

    @Test func intColumnsRoundTripCanonically() throws {
        var rng = SplitMix64(seed: 0xc02)
        for _ in 0..<500 {
            let values = Self.randomSequence(&rng, nullable: true, Self.randomInt)
            let bytes = Self.encodeRLE(values)
            let decoded = try Self.decodeRLE(bytes, count: values.count, as: Int64.self)
            #expect(decoded.values == values)
            #expect(decoded.atEnd)
            #expect(try Self.canonicalViolations(bytes, as: Int64.self) == [], "\(values)")
        }
    }

    @Test func stringColumnsRoundTripCanonically() throws {
        var rng = SplitMix64(seed: 0xc03)
        for _ in 0..<500 {
            let values = Self.randomSequence(&rng, nullable: true, Self.randomString)
            let bytes = Self.encodeRLE(values)
            let decoded = try Self.decodeRLE(bytes, count: values.count, as: String.self)
            #expect(Self.utf8(decoded.values) == Self.utf8(values))
            #expect(decoded.atEnd)
            #expect(try Self.canonicalViolations(bytes, as: String.self) == [], "\(values)")
        }
        // Canonically equivalent but different bytes must stay two values, not one run.
        let pair: [String?] = ["é", "e\u{301}"]
        #expect(Self.encodeRLE(pair) == Self.hex("7e 02 c3 a9 03 65 cc 81"))
        #expect(Self.utf8(try Self.decodeRLE(Self.encodeRLE(pair), count: 2, as: String.self).values) == Self.utf8(pair))
    }

    @Test func deltaColumnsRoundTripCanonically() throws {
        var rng = SplitMix64(seed: 0xc04)
        for _ in 0..<500 {
            // Counters: differences stay far from overflow.
            let values = Self.randomSequence(&rng, nullable: true) { (rng: inout SplitMix64) in
                Int64.random(in: -(1 << 40)...(1 << 40), using: &rng) >> Int64.random(in: 0...40, using: &rng)
            }
            let bytes = Self.encodeDelta(values)
            let decoded = try Self.decodeDelta(bytes, count: values.count)
            #expect(decoded.values == values)
            #expect(decoded.atEnd)
            #expect(try Self.canonicalViolations(bytes, as: Int64.self) == [], "\(values)")
        }
    }

    @Test func booleanColumnsRoundTripCanonically() throws {
        var rng = SplitMix64(seed: 0xc05)
        for _ in 0..<500 {
            let values = Self.randomSequence(&rng, nullable: false) { (rng: inout SplitMix64) in Bool.random(using: &rng) }.map { $0 ?? false }
            let bytes = Self.encodeBool(values)
            let decoded = try Self.decodeBool(bytes, count: values.count)
            #expect(decoded.values == values)
            #expect(decoded.atEnd)
            // Canonical: alternating runs starting with false; only the first may be 0; none trailing.
            var reader = ByteReader(bytes)
            var counts: [UInt64] = []
            while !reader.isAtEnd { counts.append(try reader.readULEB()) }
            #expect(counts.reduce(0, +) == UInt64(values.count))
            #expect(counts.dropFirst().allSatisfy { $0 > 0 }, "\(counts)")
            #expect(values.isEmpty == bytes.isEmpty)
            if let first = values.first { #expect((counts.first == 0) == first) }
        }
    }

    @Test func valueColumnsRoundTrip() throws {
        var rng = SplitMix64(seed: 0xc06)
        for _ in 0..<500 {
            let values = Self.randomSequence(&rng, nullable: false, Self.randomScalar).map { $0 ?? .null }
            var encoder = ValueEncoder()
            for value in values { encoder.append(value) }
            let (metadata, raw) = encoder.finish()
            var decoder = ValueDecoder(metadata: ByteReader(metadata), raw: ByteReader(raw))
            var decoded: [ScalarValue] = []
            for _ in values { decoded.append(try decoder.next()) }
            #expect(decoded == values)
            #expect(decoder.isAtEnd)
            #expect(try Self.canonicalViolations(metadata, as: UInt64.self) == [])
            // Metadata is (length << 4) | code and the lengths add up to the raw column.
            let runs = try Self.parseRuns(metadata, as: UInt64.self)
            var total: UInt64 = 0
            for run in runs {
                switch run {
                case .repeated(let count, let meta): total += UInt64(count) * (meta >> 4)
                case .literal(let metas): total += metas.reduce(0) { $0 + ($1 >> 4) }
                case .nulls: Issue.record("null run in a value metadata column")
                }
            }
            #expect(total == UInt64(raw.count))
        }
    }

    // MARK: - Malformed columns

    /// The error `body` throws (nil when it succeeds); an untyped error is a failure.
    static func failure(_ body: () throws -> Void) -> AutomergeError? {
        do {
            try body()
            return nil
        } catch let error as AutomergeError {
            return error
        } catch {
            Issue.record("untyped error \(error)")
            return nil
        }
    }

    static func isInvalidColumns(_ error: AutomergeError?) -> Bool {
        if case .invalidColumns = error { return true }
        return false
    }

    static func isInvalidValue(_ error: AutomergeError?) -> Bool {
        if case .invalidValue = error { return true }
        return false
    }

    @Test func malformedRunsAreRejected() {
        // Zero-length boolean run after the first.
        #expect(Self.isInvalidColumns(Self.failure { _ = try Self.decodeBool(Self.hex("01 00 01"), count: 2) }))
        #expect(Self.isInvalidColumns(Self.failure { _ = try Self.decodeBool(Self.hex("00 00 01"), count: 1) }))
        // A leading zero is legal (the column starts with true).
        #expect(Self.failure { _ = try Self.decodeBool(Self.hex("00 01"), count: 1) } == nil)
        // Null run of 0.
        #expect(Self.isInvalidColumns(Self.failure { _ = try Self.decodeRLE(Self.hex("00 00"), count: 1, as: UInt64.self) }))
        #expect(Self.isInvalidColumns(Self.failure { _ = try Self.decodeRLE(Self.hex("7f 01 61 00 00"), count: 2, as: String.self) }))
        // Literal run longer than the data.
        #expect(Self.isInvalidColumns(Self.failure { _ = try Self.decodeRLE(Self.hex("7d 01"), count: 3, as: UInt64.self) }))
        #expect(Self.failure { _ = try Self.decodeRLE(Self.hex("7e 81 01"), count: 2, as: UInt64.self) } == .unexpectedEnd(what: "uLEB128"))
        #expect(Self.isInvalidColumns(Self.failure { _ = try Self.decodeRLE(Self.hex("80 80 80 80 80 80 80 80 80 7f"), count: 1, as: UInt64.self) }))
        // A repeat or null run too long for any column.
        #expect(Self.isInvalidColumns(Self.failure { _ = try Self.decodeRLE(Self.hex("ff ff ff ff ff 00 05"), count: 1, as: UInt64.self) }))
        #expect(Self.isInvalidColumns(Self.failure { _ = try Self.decodeRLE(Self.hex("00 ff ff ff ff 0f"), count: 1, as: UInt64.self) }))
        #expect(Self.isInvalidColumns(Self.failure { _ = try Self.decodeBool(Self.hex("ff ff ff ff 0f"), count: 1) }))
        // Truncated: a repeat run without its value.
        #expect(Self.failure { _ = try Self.decodeRLE(Self.hex("02"), count: 1, as: Int64.self) } != nil)
    }

    @Test func overlongLEBsAreRejected() {
        #expect(Self.failure { _ = try Self.decodeRLE(Self.hex("7f 80 00"), count: 1, as: UInt64.self) } == .overlongLEB128)
        #expect(Self.failure { _ = try Self.decodeRLE(Self.hex("7f ff 7f"), count: 1, as: Int64.self) } == .overlongLEB128)
        #expect(Self.failure { _ = try Self.decodeRLE(Self.hex("02 80 00"), count: 1, as: UInt64.self) } == .overlongLEB128)
        #expect(Self.failure { _ = try Self.decodeDelta(Self.hex("7f 80 80 00"), count: 1) } == .overlongLEB128)
        // The run header itself.
        #expect(Self.failure { _ = try Self.decodeRLE(Self.hex("ff 7f 05"), count: 1, as: UInt64.self) } == .overlongLEB128)
        #expect(Self.failure { _ = try Self.decodeBool(Self.hex("81 00"), count: 1) } == .overlongLEB128)
        // Over 64 bits.
        #expect(Self.failure { _ = try Self.decodeRLE(Self.hex("7f ff ff ff ff ff ff ff ff ff 02"), count: 1, as: UInt64.self) } == .leb128TooLarge)
        // Delta sums that leave 64 bits.
        #expect(Self.isInvalidColumns(Self.failure { _ = try Self.decodeDelta(Self.hex("02 ff ff ff ff ff ff ff ff ff 00"), count: 2) }))
    }

    @Test func invalidUTF8IsRejected() {
        #expect(Self.failure { _ = try Self.decodeRLE(Self.hex("7f 02 c3 28"), count: 1, as: String.self) } == .invalidUTF8)
        #expect(Self.failure { _ = try Self.decodeRLE(Self.hex("02 01 ff"), count: 1, as: String.self) } == .invalidUTF8)
        // A surrogate encoded in UTF-8 and an overlong encoding are not valid UTF-8 either.
        #expect(Self.failure { _ = try Self.decodeRLE(Self.hex("7f 03 ed a0 80"), count: 1, as: String.self) } == .invalidUTF8)
        #expect(Self.failure { _ = try Self.decodeRLE(Self.hex("7f 02 c0 af"), count: 1, as: String.self) } == .invalidUTF8)
        #expect(Self.failure { _ = try ScalarValue.decode(metadata: 2 << 4 | 6, bytes: [0xc3, 0x28], range: 0..<2) } == .invalidUTF8)
        // A string that ends inside its length.
        #expect(Self.failure { _ = try Self.decodeRLE(Self.hex("7f 05 61"), count: 1, as: String.self) } != nil)
    }

    /// Decodes one value through the column decoder: metadata column `7f meta`, raw `raw`.
    static func decodeValue(meta: UInt64, raw: [UInt8]) throws(AutomergeError) -> ScalarValue {
        var metadata: [UInt8] = [0x7f]
        LEB128.appendUnsigned(meta, to: &metadata)
        var decoder = ValueDecoder(metadata: ByteReader(metadata), raw: ByteReader(raw))
        return try decoder.next()
    }

    @Test func valueMetadataMismatchesAreRejected() throws {
        let cases: [(String, UInt64, [UInt8])] = [
            ("uint with an extra byte", 2 << 4 | 3, [0x01, 0x00]),
            ("uint overlong", 2 << 4 | 3, [0x81, 0x00]),
            ("uint too short", 1 << 4 | 3, [0x81]),
            ("int with an extra byte", 2 << 4 | 4, [0x01, 0x01]),
            ("int overlong", 2 << 4 | 4, [0xff, 0x7f]),
            ("counter overlong", 2 << 4 | 8, [0x80, 0x00]),
            ("timestamp with an extra byte", 3 << 4 | 9, [0x01, 0x02, 0x03]),
            ("float with 4 bytes", 4 << 4 | 5, [0, 0, 0, 0]),
            ("float with 9 bytes", 9 << 4 | 5, [UInt8](repeating: 0, count: 9)),
            ("null with a byte", 1 << 4 | 0, [0x00]),
            ("false with a byte", 1 << 4 | 1, [0x00]),
            ("true with a byte", 1 << 4 | 2, [0x01]),
            ("uint with no bytes", 0 << 4 | 3, []),
        ]
        for (label, meta, raw) in cases {
            let error = Self.failure { _ = try Self.decodeValue(meta: meta, raw: raw) }
            #expect(error != nil, "\(label)")
            #expect(!Self.isInvalidColumns(error), "\(label): \(String(describing: error))")
        }
        #expect(Self.isInvalidValue(Self.failure { _ = try Self.decodeValue(meta: 2 << 4 | 3, raw: [0x01, 0x00]) }))
        // The declared length runs past the value column.
        #expect(Self.isInvalidColumns(Self.failure { _ = try Self.decodeValue(meta: 8 << 4 | 5, raw: [0, 0, 0]) }))
        // A hostile length does not allocate.
        #expect(Self.isInvalidColumns(Self.failure { _ = try Self.decodeValue(meta: UInt64.max, raw: [0]) }))
        // Correct ones decode.
        #expect(try Self.decodeValue(meta: 2 << 4 | 3, raw: [0x80, 0x01]) == .uint(128))
        #expect(try Self.decodeValue(meta: 1 << 4 | 8, raw: [0x7f]) == .counter(-1))
        #expect(try Self.decodeValue(meta: 8 << 4 | 5, raw: [0, 0, 0, 0, 0, 0, 0xf0, 0x3f]) == .f64(1))
        #expect(try Self.decodeValue(meta: 2, raw: []) == .bool(true))
    }
}
