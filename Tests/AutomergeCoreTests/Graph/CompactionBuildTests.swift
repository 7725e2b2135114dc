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
}
