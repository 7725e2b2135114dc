import Testing

@testable import AutomergeCore

/// The server's in-memory document is an index over the stored bytes: per change its hash, deps (as
/// indexes), actor, seq and op range, and no bytes for the changes inside a loaded document chunk.
@Suite struct CompactIndexTests {
    /// The budget per change of the index, by its own accounting (hash tables at their real capacity).
    static let bytesPerChange = 120

    /// A generated history: three actors taking turns, some changes merging two branches.
    static func generate(changes: Int, messages: [String?] = [nil]) throws -> ChangeGraph {
        var graph = ChangeGraph()
        let actors = (1...3).map { ActorId([UInt8](repeating: $0, count: 16)) }
        var seqs = [UInt64](repeating: 0, count: 3)
        var maxOp: UInt64 = 0
        for index in 0..<changes {
            let author = index % 3
            seqs[author] += 1
            maxOp += 1
            let op = Op(object: .root, key: .map("k\(index % 17)"), action: .put, value: .int(Int64(index)))
            let change = Change(
                deps: graph.heads,
                actor: actors[author],
                seq: seqs[author],
                startOp: maxOp,
                time: Int64(index),
                message: messages[index % messages.count],
                ops: [op]
            )
            try graph.add(change.encodeChunk())
        }
        return graph
    }

    @Test func loadedDocumentKeepsAFixedBudgetPerChangeAndNoChangeBytes() throws {
        let source = try Self.generate(changes: 12_000)
        let saved = try source.saveDocument()
        var index = ChangeGraph(retainingDocumentChanges: false)
        try index.load(saved)
        #expect(index.count == 12_000)
        #expect(index.heads == source.heads)
        let footprint = index.footprint
        #expect(footprint.changeBytes == 0)
        #expect(footprint.index <= Self.bytesPerChange * index.count, "\(footprint.index / index.count) bytes per change")
        // What keeping the bytes would cost, for scale: the full graph holds every change.
        #expect(source.footprint.changeBytes >= source.allHashes.compactMap { source.chunk(for: $0)?.bytes.count }.reduce(0, +))
        #expect(!index.hasBytes(for: source.allHashes[5]))
        #expect(index.chunk(for: source.allHashes[5]) == nil)
        #expect(index.metadata(for: source.allHashes[5]) == source.metadata(for: source.allHashes[5]))
    }

    /// Apps often write the same message on every change (essay's changes each name their author):
    /// each distinct message is kept once, in the index and while rebuilding, and every change
    /// still reports its own.
    @Test func repeatedMessagesAreKeptOnce() throws {
        let messages: [String?] = ["{\"author\":\"automerge:first-author-of-this-document\"}", "{\"author\":\"automerge:second-author\"}", nil]
        let source = try Self.generate(changes: 3_000, messages: messages)
        var index = ChangeGraph(retainingDocumentChanges: false)
        let summary = try index.load(try source.saveDocument())
        #expect(index.messages.count == 2)
        #expect(index.footprint.index <= Self.bytesPerChange * index.count, "\(index.footprint.index / index.count) bytes per change")
        #expect(summary.rebuild.perChangeBytes <= 96 * index.count, "\(summary.rebuild.perChangeBytes / index.count) bytes per change")
        for position in [0, 1, 2, 1_000, 2_999] {
            let hash = source.allHashes[position]
            #expect(index.metadata(for: hash) == source.metadata(for: hash))
            #expect(index.metadata(for: hash)?.message == messages[position % 3])
        }
    }

    /// The hash → node table: every node found, unknown hashes not, a repeated hash refused, across growth.
    @Test func hashIndexFindsEveryNodeAcrossGrowth() throws {
        let graph = try Self.generate(changes: 1_500)
        let hashes = graph.allHashes
        var table = ChangeHashIndex()
        var inserted = 0
        for node in hashes.indices where table.insert(Int32(node), in: hashes) { inserted += 1 }
        #expect(inserted == hashes.count)
        #expect(table.count == hashes.count)
        let repeated = table.insert(7, in: hashes)
        #expect(!repeated)
        #expect(hashes.indices.allSatisfy { table.find(hashes[$0], in: hashes) == Int32($0) })
        let other = try Self.generate(changes: 3, messages: ["other"]).allHashes
        #expect(other.allSatisfy { table.find($0, in: hashes) == nil })
        #expect(table.bytes <= 8 * hashes.count)
        #expect(ChangeHashIndex().find(hashes[0], in: hashes) == nil)
    }

    /// Changes applied after the document keep their bytes (they are the recent, small increments).
    @Test func changesAfterTheDocumentKeepTheirBytes() throws {
        var source = try Self.generate(changes: 50)
        let saved = try source.saveDocument()
        var index = ChangeGraph(retainingDocumentChanges: false)
        try index.load(saved)
        let op = Op(object: .root, key: .map("late"), action: .put, value: .int(1))
        let late = Change(deps: source.heads, actor: ActorId([9, 9]), seq: 1, startOp: 51, time: 0, ops: [op]).encodeChunk()
        try source.add(late)
        try index.add(late)
        #expect(index.hasBytes(for: late.hash))
        #expect(index.chunk(for: late.hash) == late)
        #expect(index.footprint.changeBytes >= late.bytes.count)
        #expect(index.heads == source.heads)
    }
}
