import Foundation
import TestSupport
import Testing

@testable import AutomergeCore

/// The writer's and the stored-rows reader's behaviour on bad and random input: a typed error
/// or a valid document that reads back to exactly the rows written, never a trap.
@Suite struct DocumentWriterFuzzTests {
    static let actorA = ActorId([0x11, 0x15])
    static let actorB = ActorId([0x29, 0x5d, 0x01])

    /// A small valid document: a map key with a conflict, a text with an insert and a deleted
    /// element, a mark, a counter with an increment.
    static func sampleRows() -> (changes: [DocumentChangeRow], ops: [DocumentOpRow], heads: [DocumentHead]) {
        let changes = [
            DocumentChangeRow(actor: 0, seq: 1, maxOp: 6, time: 1_700_000_000, message: "base"),
            DocumentChangeRow(actor: 1, seq: 1, maxOp: 8, time: 1_700_000_001, dependencies: [0], extraBytes: [1, 2, 3]),
            DocumentChangeRow(actor: 0, seq: 2, maxOp: 9, time: -5, message: "", dependencies: [0]),
        ]
        let text = OpId(counter: 2, actor: 0)
        let ops = [
            DocumentOpRow(
                object: .root,
                key: .map("k"),
                id: OpId(counter: 1, actor: 0),
                action: .put,
                value: .string("a"),
                successors: [OpId(counter: 8, actor: 1)]
            ),
            DocumentOpRow(object: .root, key: .map("k"), id: OpId(counter: 8, actor: 1), action: .put, value: .f64(-0.5)),
            DocumentOpRow(
                object: .root,
                key: .map("n"),
                id: OpId(counter: 5, actor: 0),
                action: .put,
                value: .counter(3),
                successors: [OpId(counter: 9, actor: 0)]
            ),
            DocumentOpRow(object: .root, key: .map("n"), id: OpId(counter: 9, actor: 0), action: .increment, value: .int(2)),
            DocumentOpRow(object: .root, key: .map("t"), id: text, action: .makeText),
            DocumentOpRow(object: .op(text), key: .head, id: OpId(counter: 3, actor: 0), insert: true, action: .put, value: .string("x")),
            DocumentOpRow(
                object: .op(text),
                key: .element(OpId(counter: 3, actor: 0)),
                id: OpId(counter: 4, actor: 0),
                insert: true,
                action: .put,
                value: .string("y"),
                successors: [OpId(counter: 7, actor: 1)]
            ),
            DocumentOpRow(
                object: .op(text),
                key: .head,
                id: OpId(counter: 6, actor: 0),
                action: .mark,
                value: .bool(true),
                expand: true,
                markName: "bold"
            ),
        ]
        return (
            changes, ops,
            [
                DocumentHead(hash: ChangeHash(bytes: [UInt8](repeating: 0xaa, count: 32))!, row: 1),
                DocumentHead(hash: ChangeHash(bytes: [UInt8](repeating: 0x0b, count: 32))!, row: 2),
            ]
        )
    }

    static func write(
        actors: [ActorId] = [actorA, actorB],
        changes: [DocumentChangeRow],
        ops: [DocumentOpRow],
        heads: [DocumentHead],
        compression: DocumentWriter.Compression = .none
    ) throws(AutomergeError) -> [UInt8] {
        try DocumentWriter.write(actors: actors, changes: changes, ops: ops, heads: heads, compression: compression)
    }

    @Test func sampleRoundTrips() throws {
        let sample = Self.sampleRows()
        for compression in [DocumentWriter.Compression.none, .reference, .deflate(threshold: 1)] {
            let bytes = try Self.write(changes: sample.changes, ops: sample.ops, heads: sample.heads, compression: compression)
            let read = try StoredDocument(bytes: bytes)
            #expect(read.actors == [Self.actorA, Self.actorB])
            #expect(read.changes == sample.changes)
            #expect(read.ops == sample.ops)
            // Heads come back sorted by hash, each with its row.
            #expect(read.documentHeads == sample.heads.sorted { $0.hash < $1.hash })
            #expect(try read.write(compression: compression) == bytes)
        }
        // Messages: nil and "" stay apart; extra bytes are kept.
        let read = try StoredDocument(bytes: try Self.write(changes: sample.changes, ops: sample.ops, heads: sample.heads))
        #expect(read.changes[1].message == nil && read.changes[2].message == "")
        #expect(read.changes[1].extraBytes == [1, 2, 3])
    }

    /// Columns of 256 bytes or more are DEFLATEd (spec + 8); smaller ones never are.
    @Test func compressesOnlyLargeColumns() throws {
        let changes = [DocumentChangeRow(actor: 0, seq: 1, maxOp: 400)]
        let text = OpId(counter: 1, actor: 0)
        var ops = [DocumentOpRow(object: .root, key: .map("text"), id: text, action: .makeText)]
        var previous = Key.head
        for counter in 2...400 {
            let id = OpId(counter: UInt64(counter), actor: 0)
            ops.append(
                DocumentOpRow(object: .op(text), key: previous, id: id, insert: true, action: .put, value: .string(counter % 3 == 0 ? "é" : "a"))
            )
            previous = .element(id)
        }
        let heads = [DocumentHead(hash: ChangeHash(bytes: [UInt8](repeating: 1, count: 32))!, row: 0)]
        let plain = try Self.write(actors: [Self.actorA], changes: changes, ops: ops, heads: heads)
        let compressed = try Self.write(actors: [Self.actorA], changes: changes, ops: ops, heads: heads, compression: .reference)
        let plainColumns = try DecodedChunk(plain)
        let compressedColumns = try DecodedChunk(compressed)
        #expect(compressedColumns.sameContent(as: plainColumns))
        #expect(!plainColumns.hasDeflatedColumn)
        for (plainColumn, compressedColumn) in zip(plainColumns.opColumns, compressedColumns.opColumns) {
            #expect(compressedColumn.spec.isDeflated == (plainColumn.data.count >= 256), "\(plainColumn.spec)")
        }
        #expect(compressed.count < plain.count)
        #expect(try StoredDocument(bytes: compressed).ops == ops)
    }

    @Test func emptyDocumentIsTheReferenceBytes() throws {
        let bytes = try DocumentWriter.write(actors: [], changes: [], ops: [], heads: [])
        #expect(bytes == [0x85, 0x6f, 0x4a, 0x83, 0xb8, 0x1a, 0x95, 0x44, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00])
    }

    /// Each malformed input is refused with a typed error.
    @Test func rejectsMalformedRows() throws {
        let sample = Self.sampleRows()
        var cases: [(String, () throws(AutomergeError) -> [UInt8])] = []
        cases.append(
            (
                "unsorted actors",
                { () throws(AutomergeError) in
                    try Self.write(actors: [Self.actorB, Self.actorA], changes: sample.changes, ops: sample.ops, heads: sample.heads)
                }
            )
        )
        cases.append(
            (
                "repeated actor",
                { () throws(AutomergeError) in
                    try Self.write(actors: [Self.actorA, Self.actorA], changes: sample.changes, ops: sample.ops, heads: sample.heads)
                }
            )
        )
        func withChange(_ edit: (inout DocumentChangeRow) -> Void, row: Int = 2) -> [DocumentChangeRow] {
            var changes = sample.changes
            edit(&changes[row])
            return changes
        }
        func withOp(_ edit: (inout DocumentOpRow) -> Void, row: Int = 6) -> [DocumentOpRow] {
            var ops = sample.ops
            edit(&ops[row])
            return ops
        }
        let badChanges: [(String, [DocumentChangeRow])] = [
            ("actor out of range", withChange { $0.actor = 2 }),
            ("negative actor", withChange { $0.actor = -1 }),
            ("seq repeated", withChange { $0.seq = 1 }),
            ("seq beyond u32", withChange { $0.seq = UInt64(UInt32.max) + 1 }),
            ("maxOp decreasing", withChange { $0.maxOp = 5 }),
            ("dep on itself", withChange { $0.dependencies = [2] }),
            ("dep on a later row", withChange({ $0.dependencies = [1] }, row: 0)),
            ("negative dep", withChange { $0.dependencies = [-1] }),
        ]
        for (name, changes) in badChanges {
            cases.append((name, { () throws(AutomergeError) in try Self.write(changes: changes, ops: sample.ops, heads: sample.heads) }))
        }
        let badOps: [(String, [DocumentOpRow])] = [
            ("delete row", withOp { $0.action = .delete }),
            ("zero id counter", withOp { $0.id = OpId(counter: 0, actor: 0) }),
            ("id counter beyond u32", withOp { $0.id = OpId(counter: 1 << 32, actor: 0) }),
            ("id actor out of range", withOp { $0.id = OpId(counter: 4, actor: 5) }),
            ("object actor out of range", withOp { $0.object = .op(OpId(counter: 2, actor: 9)) }),
            ("element key counter zero", withOp { $0.key = .element(OpId(counter: 0, actor: 0)) }),
            ("successor actor out of range", withOp { $0.successors = [OpId(counter: 7, actor: 2)] }),
            ("known type code as unknown", withOp { $0.value = .unknown(code: 3, bytes: [0x80]) }),
        ]
        for (name, ops) in badOps {
            cases.append((name, { () throws(AutomergeError) in try Self.write(changes: sample.changes, ops: ops, heads: sample.heads) }))
        }
        let hash = sample.heads[0].hash
        cases.append(
            (
                "head row out of range",
                { () throws(AutomergeError) in try Self.write(changes: sample.changes, ops: sample.ops, heads: [DocumentHead(hash: hash, row: 3)]) }
            )
        )
        cases.append(
            (
                "repeated head",
                { () throws(AutomergeError) in
                    try Self.write(
                        changes: sample.changes,
                        ops: sample.ops,
                        heads: [DocumentHead(hash: hash, row: 1), DocumentHead(hash: hash, row: 2)]
                    )
                }
            )
        )
        cases.append(
            (
                "legacy heads",
                { () throws(AutomergeError) in
                    try StoredDocument(actors: [Self.actorA, Self.actorB], heads: [hash], headRows: nil, changes: sample.changes, ops: sample.ops)
                        .write()
                }
            )
        )
        for (name, run) in cases {
            #expect(throws: AutomergeError.self, "\(name)") { try run() }
        }
    }

    /// A refused row leaves a streaming writer as it was: the rows after it write the same
    /// document as if the bad row had never been offered.
    @Test func refusedRowLeavesWriterUnchanged() throws {
        let sample = Self.sampleRows()
        var writer = try DocumentWriter(actors: [Self.actorA, Self.actorB])
        for (index, change) in sample.changes.enumerated() {
            if index == 1 {
                var bad = change
                bad.dependencies = [0, 0]
                #expect(throws: AutomergeError.self) { try writer.append(bad) }
            }
            try writer.append(change)
        }
        for (index, op) in sample.ops.enumerated() {
            if index == 6 {
                // Valid object and key, invalid successor: checked before anything is encoded.
                var bad = op
                bad.successors = [OpId(counter: 3, actor: 7)]
                #expect(throws: AutomergeError.self) { try writer.append(bad) }
            }
            try writer.append(op)
        }
        #expect(writer.changeCount == sample.changes.count && writer.opCount == sample.ops.count)
        let streamed = try writer.finish(heads: sample.heads, compression: .none)
        #expect(streamed == (try Self.write(changes: sample.changes, ops: sample.ops, heads: sample.heads)))
    }

    /// Random rows, valid or not: the writer throws a typed error, or its output reads back to
    /// exactly the rows written and re-writes to the same bytes.
    @Test func randomRowsRoundTripOrFail() throws {
        var rng = SplitMix64(seed: 0x5eed_d0c)
        var written = 0
        for _ in 0..<400 {
            let actorCount = Int.random(in: 1...3, using: &rng)
            let actors = (0..<actorCount).map { ActorId([UInt8($0 * 16 + 1), UInt8.random(in: 0...255, using: &rng)]) }
            var changes: [DocumentChangeRow] = []
            var seq = [UInt64](repeating: 0, count: actorCount)
            var maxOp = [UInt64](repeating: 0, count: actorCount)
            for row in 0..<Int.random(in: 0...6, using: &rng) {
                let actor = Int.random(in: 0..<(actorCount + (rng.next() % 64 == 0 ? 1 : 0)), using: &rng)
                let safeActor = min(actor, actorCount - 1)
                seq[safeActor] += rng.next() % 64 == 0 ? 0 : 1
                maxOp[safeActor] += UInt64.random(in: 0...3, using: &rng)
                var deps = row == 0 ? [] : Array(Set((0..<Int.random(in: 0...2, using: &rng)).map { _ in Int.random(in: 0..<row, using: &rng) }))
                if rng.next() % 64 == 0 { deps.append(row) }
                changes.append(
                    DocumentChangeRow(
                        actor: actor,
                        seq: seq[safeActor],
                        maxOp: maxOp[safeActor],
                        time: Int64.random(in: -3...3, using: &rng) * Int64(rng.next() % 1_000_000),
                        message: [nil, "", "m", "ü"].randomElement(using: &rng)!,
                        dependencies: deps,
                        extraBytes: rng.next() % 8 == 0 ? [1, 2] : []
                    )
                )
            }
            func randomId() -> OpId {
                OpId(
                    counter: rng.next() % 512 == 0 ? 0 : UInt64.random(in: 1...20, using: &rng),
                    actor: Int.random(in: 0...actorCount, using: &rng) % (rng.next() % 512 == 0 ? actorCount + 1 : actorCount)
                )
            }
            let values: [ScalarValue] = [
                .null, .bool(true), .uint(UInt64.max), .int(-1), .f64(.nan), .string("s"), .bytes([0, 255]), .counter(7), .timestamp(-9),
                .unknown(code: UInt8.random(in: 9...15, using: &rng), bytes: [1]),
            ]
            var ops: [DocumentOpRow] = []
            for _ in 0..<Int.random(in: 0...12, using: &rng) {
                let keys: [Key] = [.map("k"), .map(""), .head, .element(randomId())]
                ops.append(
                    DocumentOpRow(
                        object: Bool.random(using: &rng) ? .root : .op(randomId()),
                        key: keys.randomElement(using: &rng)!,
                        id: randomId(),
                        insert: Bool.random(using: &rng),
                        action: rng.next() % 64 == 0
                            ? .delete : [Action.makeMap, .put, .makeList, .makeText, .increment, .makeTable, .mark].randomElement(using: &rng)!,
                        value: values.randomElement(using: &rng)!,
                        successors: (0..<Int.random(in: 0...2, using: &rng)).map { _ in randomId() },
                        expand: rng.next() % 4 == 0,
                        markName: rng.next() % 4 == 0 ? "bold" : nil
                    )
                )
            }
            let heads =
                changes.isEmpty
                ? []
                : [
                    DocumentHead(
                        hash: rng.nextHash(),
                        row: Int.random(in: 0...changes.count, using: &rng) % (changes.count + (rng.next() % 8 == 0 ? 1 : 0))
                    )
                ]
            let compression: DocumentWriter.Compression = Bool.random(using: &rng) ? .none : .deflate(threshold: 4)
            let bytes: [UInt8]
            do {
                bytes = try DocumentWriter.write(actors: actors, changes: changes, ops: ops, heads: heads, compression: compression)
            } catch {
                continue
            }
            written += 1
            let read = try StoredDocument(bytes: bytes)
            #expect(read.actors == actors)
            #expect(read.changes == changes)
            #expect(read.ops == ops)
            #expect(read.documentHeads == heads)
            #expect(try read.write(compression: compression) == bytes)
        }
        // The generator mostly makes valid rows: the round trip is really exercised.
        #expect(written > 200)
    }
}

/// Corrupted document bodies (with a correct checksum, so the decoders see them): the reader
/// throws a typed error or yields rows that the writer turns into a document reading back the same.
@Suite(.needsFixtures) struct StoredDocumentFuzzTests {
    static let sources = [
        "generated/conflicts.nocompress.automerge", "generated/marks.nocompress.automerge", "generated/counter.nocompress.automerge",
        "generated/text-unicode.automerge", "upstream/exemplar",
    ]

    @Test(arguments: sources)
    func mutatedBodies(path: String) throws {
        let original = try DocumentWriterFixtureTests.firstChunk(try Fixtures.bytes(path))
        guard case .document(let chunk) = try ChunkReader.readAll(original)[0] else { return }
        let body = Array(chunk.body)
        var rng = SplitMix64(seed: UInt64(truncatingIfNeeded: path.utf8.reduce(7) { $0 &* 31 &+ Int($1) }))
        var readable = 0
        for _ in 0..<300 {
            let mutated = DecoderFuzzTests.mutate(body, &rng)
            let bytes = DocumentWriter.chunk(type: .document, body: mutated)
            let stored: StoredDocument
            do throws(AutomergeError) {
                stored = try StoredDocument(bytes: bytes, limits: DecoderFuzzTests.limits)
            } catch {
                continue
            }
            readable += 1
            do throws(AutomergeError) {
                let rewritten = try stored.write(compression: .reference)
                let again = try StoredDocument(bytes: rewritten)
                #expect(again.changes == stored.changes)
                #expect(again.ops == stored.ops)
            } catch {
                // Rows the writer refuses (e.g. a zero object counter) are a typed error.
            }
        }
        _ = readable
    }
}

/// The graph applies a batch in the reference's order (Rust `apply_changes_batch`): ready
/// changes in batch order first, then the first ready change in queue order, repeatedly, taken
/// out with a swap-remove. That order becomes the row order of a saved document.
@Suite struct ChangeGraphBatchOrderTests {
    static let alice = ChangeGraphTests.alice
    static let bob = ChangeGraphTests.bob
    static let carol = ChangeGraphTests.carol

    @Test func queuedChangesFollowReadyOnesInQueueOrder() throws {
        let a = ChangeGraphTests.change(Self.alice, seq: 1)
        let b = ChangeGraphTests.change(Self.bob, seq: 1, deps: [a.hash], startOp: 2)
        let c = ChangeGraphTests.change(Self.carol, seq: 1, deps: [a.hash], startOp: 2)
        let d = ChangeGraphTests.change(Self.alice, seq: 2, deps: [a.hash], startOp: 2)
        var graph = ChangeGraph()
        try graph.add([b, c, d, a])
        // Queue [b, c, d]; a applies; b is taken from the front and d swapped into its place.
        #expect(graph.allHashes == [a.hash, b.hash, d.hash, c.hash])
        let table = try graph.documentChangeTable()
        #expect(table.changes.map(\.seq) == [1, 1, 2, 1])
        #expect(table.changes.map(\.dependencies) == [[], [0], [0], [0]])
    }

    @Test func readyChangesOfTheBatchComeFirst() throws {
        let a = ChangeGraphTests.change(Self.alice, seq: 1)
        let b = ChangeGraphTests.change(Self.bob, seq: 1, deps: [a.hash], startOp: 2)
        let x = ChangeGraphTests.change(Self.carol, seq: 1, key: "x")
        var graph = ChangeGraph()
        try graph.add([b, a, x])
        #expect(graph.allHashes == [a.hash, x.hash, b.hash])
    }

    @Test func orphansKeepTheSwappedQueueOrder() throws {
        let a = ChangeGraphTests.change(Self.alice, seq: 1)
        let missing = ChangeGraphTests.change(Self.carol, seq: 1)
        let b = ChangeGraphTests.change(Self.bob, seq: 1, deps: [a.hash], startOp: 2)
        let d = ChangeGraphTests.change(Self.carol, seq: 2, deps: [missing.hash], startOp: 2)
        let e = ChangeGraphTests.change(Self.alice, seq: 2, deps: [missing.hash, a.hash], startOp: 2)
        var graph = ChangeGraph()
        try graph.add([b, d, e])
        #expect(graph.orphanChunks.map(\.hash) == [b.hash, d.hash, e.hash])
        try graph.add(a)
        // b leaves the front of the queue and e takes its place.
        #expect(graph.orphanChunks.map(\.hash) == [e.hash, d.hash])
        try graph.add(missing)
        #expect(graph.allHashes == [a.hash, b.hash, missing.hash, e.hash, d.hash])
        #expect(graph.orphanChunks.isEmpty)
    }
}

/// Change rows taken from a graph carry each change's extra bytes, read from its stored chunk.
@Suite struct DocumentChangeTableExtraBytesTests {
    @Test func extraBytesComeFromTheStoredChunks() throws {
        let plain = ChangeGraphTests.change(ChangeGraphTests.alice, seq: 1)
        let withExtra = Change(
            deps: [plain.hash],
            actor: ChangeGraphTests.bob,
            seq: 1,
            startOp: 2,
            message: "extra",
            ops: [Op(object: .root, key: .map("k"), action: .put, value: .string("v"))],
            extraBytes: [7, 8, 9]
        ).encodeChunk()
        var graph = ChangeGraph()
        try graph.add([plain, withExtra])
        let table = try graph.documentChangeTable()
        #expect(table.actors == [ChangeGraphTests.alice, ChangeGraphTests.bob])
        #expect(table.changes.map(\.extraBytes) == [[], [7, 8, 9]])
        #expect(table.changes[1] == DocumentChangeRow(actor: 1, seq: 1, maxOp: 2, message: "extra", dependencies: [0], extraBytes: [7, 8, 9]))
        #expect(table.heads == [DocumentHead(hash: withExtra.hash, row: 1)])
        // A graph that keeps no change bytes cannot know them.
        var light = ChangeGraph(retainingChanges: false)
        try light.add([plain, withExtra])
        #expect(try light.documentChangeTable().changes.map(\.extraBytes) == [[], []])
    }
}
