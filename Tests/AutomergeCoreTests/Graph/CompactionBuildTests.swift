import Foundation
import Testing

@testable import AutomergeCore

/// `ChangeGraph.compacted`: the snapshot a compaction writes, built from the stored document's op
/// columns plus the later changes (not from every change's bytes), byte-identical to what a graph
/// holding every change saves.
@Suite struct CompactionBuildTests {
    static func chunks(_ graph: ChangeGraph, _ range: Range<Int>) -> [UInt8] {
        graph.allHashes[range].flatMap { graph.chunk(for: $0)?.bytes ?? [] }
    }

    @Test func aStoredDocumentHoldingEveryChangeIsTheSnapshotAsItIs() throws {
        let source = try CompactIndexTests.generate(changes: 200)
        let saved = try source.saveDocument()
        // Files may repeat changes the document holds (an incremental written before a compaction).
        let compacted = try #require(try ChangeGraph.compacted(saved + Self.chunks(source, 190..<200)))
        #expect(compacted.reusedStoredDocument)
        #expect(compacted.bytes == saved)
        #expect(compacted.heads == source.heads)
    }

    @Test func aSnapshotAndLaterChangesSaveAsTheWholeGraphWould() throws {
        let full = try CompactIndexTests.generate(changes: 300)
        let snapshot = try CompactIndexTests.generate(changes: 200).saveDocument()
        let compacted = try #require(try ChangeGraph.compacted(snapshot + Self.chunks(full, 200..<300)))
        #expect(!compacted.reusedStoredDocument)
        #expect(compacted.bytes == (try full.saveDocument()))
        #expect(compacted.heads == full.heads)
    }

    @Test func changeChunksAloneSaveAsTheWholeGraphWould() throws {
        let full = try CompactIndexTests.generate(changes: 120)
        let compacted = try #require(try ChangeGraph.compacted(Self.chunks(full, 0..<120)))
        #expect(compacted.bytes == (try full.saveDocument()))
    }

    /// A document change with bytes after its op columns keeps them in the new snapshot, though the
    /// graph keeps no other document change's bytes.
    @Test func extraBytesOfDocumentChangesSurvive() throws {
        let actor = ActorId([1, 2, 3])
        let op = Op(object: .root, key: .map("a"), action: .put, value: .int(1))
        let first = Change(actor: actor, seq: 1, startOp: 1, time: 5, ops: [op], extraBytes: [7, 7, 7]).encodeChunk()
        var full = ChangeGraph()
        try full.add(first)
        let snapshot = try full.saveDocument()
        let later = Change(deps: [first.hash], actor: actor, seq: 2, startOp: 2, ops: [op]).encodeChunk()
        try full.add(later)
        let compacted = try #require(try ChangeGraph.compacted(snapshot + later.bytes))
        #expect(compacted.bytes == (try full.saveDocument()))
        var check = ChangeGraph()
        try check.load(compacted.bytes)
        #expect(check.chunk(for: first.hash) == first)
    }

    /// Changes whose deps are missing stay after the document chunk, as the reference's save() writes them.
    @Test func orphansFollowTheDocument() throws {
        let full = try CompactIndexTests.generate(changes: 60)
        let snapshot = try CompactIndexTests.generate(changes: 50).saveDocument()
        // Change 55 onwards wait for 50..<55, which are not stored.
        let input = snapshot + Self.chunks(full, 55..<60)
        var expected = ChangeGraph()
        try expected.load(input)
        #expect(expected.queuedCount == 5)
        let compacted = try #require(try ChangeGraph.compacted(input))
        #expect(compacted.bytes == (try expected.saveDocument()))
        #expect(compacted.heads == expected.heads)
    }

    @Test func aDamagedChunkIsRefused() throws {
        let source = try CompactIndexTests.generate(changes: 40)
        var saved = try source.saveDocument()
        saved[saved.count - 3] ^= 0x55
        #expect(throws: AutomergeError.self) { try ChangeGraph.compacted(saved) }
        #expect(try ChangeGraph.compacted([]) == nil)
    }

    // MARK: The streaming merge (stored op rows with the later ops merged in, no op set)

    /// `merged(_:documentChanges:)` on a snapshot and later change chunks: the merge path itself,
    /// which `compacted` would otherwise hide behind its op-set fallback.
    static func merged(snapshot: [UInt8], later: [UInt8]) throws -> [UInt8] {
        var graph = ChangeGraph(retainingDocumentChanges: false)
        try graph.load(snapshot, validation: .metadata)
        let documentChanges = graph.count
        try graph.load(later, validation: .metadata)
        var reader = ChunkReader(snapshot)
        guard case .document(let chunk)? = try reader.next() else { throw AutomergeError.invalidDocument("no document chunk") }
        return try graph.merged(DocumentChunk(chunk), documentChanges: documentChanges)
    }

    /// Every split of `full` at the given change counts: snapshot of the first changes, then the
    /// rest as change chunks, merges to the whole graph's save.
    static func checkSplits(_ full: ChangeGraph, at splits: [Int], expected: [UInt8]? = nil) throws {
        let whole = try full.saveDocument()
        if let expected { #expect(whole == expected, "our full save differs from the reference's") }
        for split in splits where split > 0 && split < full.count {
            var prefix = ChangeGraph()
            for hash in full.allHashes[..<split] { try prefix.add(#require(full.chunk(for: hash))) }
            let snapshot = try prefix.saveDocument()
            let later = chunks(full, split..<full.count)
            #expect(try merged(snapshot: snapshot, later: later) == whole, "split at \(split) of \(full.count)")
            let compacted = try #require(try ChangeGraph.compacted(snapshot + later))
            #expect(compacted.bytes == whole)
            #expect(compacted.heads == full.heads)
        }
    }

    /// The generated fixtures (lists, text, deletes, counters, conflicts, marks, nested objects)
    /// split at several points merge byte-exact to the whole graph's save, which is the reference's
    /// save (`NAME.automerge`) except where the fixtures README says a change list and a saved
    /// document differ (message-time: "" messages read back as none; changes-1000: made by two versions).
    @Test(
        .needsFixtures,
        arguments: [
            "conflicts", "counter", "deleted-keys", "empty-key", "list-edits", "marks", "message-time", "nested", "scalars",
            "scalars-edge", "text-unicode", "changes-1000",
        ]
    )
    func fixtureSplitsMergeToTheReferenceSave(name: String) throws {
        var full = ChangeGraph()
        try full.load(Fixtures.bytes("generated/\(name).changes"))
        let reference = try Fixtures.bytes("generated/\(name).automerge")
        let referenceIsOurs = !["message-time", "changes-1000"].contains(name)
        let count = full.count
        try Self.checkSplits(full, at: count > 200 ? [count / 2] : [1, count / 3, count / 2, count - 1], expected: referenceIsOurs ? reference : nil)
        // The reference's own prefix save and incremental, as a stored document would hold them.
        let prefix = Fixtures.url("generated/\(name).prefix.automerge")
        if FileManager.default.fileExists(atPath: prefix.path) {
            let snapshot = try Fixtures.bytes("generated/\(name).prefix.automerge")
            let incremental = try Fixtures.bytes("generated/\(name).incremental")
            let merged = try Self.merged(snapshot: snapshot, later: incremental)
            var graph = ChangeGraph()
            try graph.load(snapshot + incremental)
            #expect(merged == (try graph.saveDocument()))
            if referenceIsOurs { #expect(merged == reference) }
        }
    }

    /// Random concurrent histories (2–3 actors editing a list, a text, a counter, root keys and
    /// nested objects, merging now and then), split at random points: the later part holds
    /// concurrent inserts at one place, conflicting writes and deletes of stored ops.
    @Test(arguments: 0..<6)
    func randomHistorySplitsMergeToTheWholeSave(seed: Int) throws {
        var rng = EnginePropertyTests.SplitMix(state: UInt64(seed) &* 104_729 &+ 17)
        let actorCount = 2 + seed % 2
        let actors = [9] + (1..<actorCount).map { UInt8($0 * 40) }
        var peers = try EnginePropertyTests.sharedStart(actors: actors, text: "hi")
        var all = peers[0]
        for round in 0..<8 {
            try EnginePropertyTests.editRound(&peers, round: round, &rng)
            for peer in peers { try all.apply(peer.changes(since: all.heads)) }
        }
        let full = all.graph
        let splits = (0..<3).map { _ in Int.random(in: 1..<full.count, using: &rng) } + [1, full.count - 1]
        try Self.checkSplits(full, at: splits)
    }

    /// A later actor whose bytes sort before the stored ones renumbers every stored op's actor.
    @Test func aNewActorSortingFirstRenumbersTheStoredRows() throws {
        var late = AutomergeDocument(actor: ActorId([0, 0, 1]))
        var early = AutomergeDocument(actor: ActorId([0xff, 0xee]))
        let list = try early.putObject(.root, key: "l", .list)
        try early.insert(list, at: 0, .int(1))
        try early.insert(list, at: 1, .int(2))
        try early.put(.root, key: "x", .string("a"))
        _ = early.commit()
        try late.apply(early.changes)
        try late.insert(list, at: 1, .int(3))
        try late.put(.root, key: "x", .string("b"))
        try late.delete(list, at: 0)
        _ = late.commit()
        try Self.checkSplits(late.graph, at: [1])
    }

    /// Later ops naming stored ops that are not there are refused by the merge (the op-set path then
    /// gives its own error).
    @Test func laterOpsNamingMissingStoredOpsAreRefused() throws {
        var document = AutomergeDocument(actor: ActorId([1, 1]))
        try document.put(.root, key: "a", .int(1))
        let committed = document.commit()
        let first = try #require(committed)
        let snapshot = try document.graph.saveDocument()
        let ghost = Op(object: .root, key: .map("a"), action: .put, value: .int(2), pred: [OpId(counter: 7, actor: 0)])
        let bad = Change(deps: [first.hash], actor: ActorId([1, 1]), seq: 2, startOp: 8, ops: [ghost]).encodeChunk()
        #expect(throws: AutomergeError.self) { try Self.merged(snapshot: snapshot, later: bad.bytes) }
        let missingObject = Op(object: .op(OpId(counter: 1, actor: 0)), key: .map("k"), action: .put, value: .int(2))
        let alsoBad = Change(deps: [first.hash], actor: ActorId([1, 1]), seq: 2, startOp: 2, ops: [missingObject]).encodeChunk()
        #expect(throws: AutomergeError.self) { try Self.merged(snapshot: snapshot, later: alsoBad.bytes) }
    }
}
