import Testing

@testable import AutomergeCore

/// Verifying a whole document is a streaming pass: the op columns are read once per batch of
/// changes, only that batch's ops are held, and what outlives a batch is a few bytes per change.
@Suite struct StreamingRebuildTests {
    /// A text edited by three actors taking turns (typing, deleting, a title overwritten): ops with
    /// predecessors, synthesised deletes and changes that merge, like a real collaborative history.
    static func generate(changes: Int) throws -> (document: AutomergeDocument, changes: [ChangeChunk]) {
        var documents = (1...3).map { AutomergeDocument(actor: ActorId([UInt8](repeating: $0, count: 16))) }
        let text = try documents[0].putObject(.root, key: "text", .text)
        var all: [ChangeChunk] = []
        guard let first = documents[0].commit(time: 0) else { throw AutomergeError.invalidDocument("no first change") }
        all.append(first)
        for index in 1..<3 { try documents[index].apply([first]) }
        var length = 0
        // Each round two actors edit concurrently from the same state; then everyone has both.
        for round in 0..<max(0, (changes - 1) / 2) {
            var made: [ChangeChunk] = []
            let before = length
            for (turn, author) in [round % 3, (round + 1) % 3].enumerated() {
                let insert = String(String(repeating: "abcdefgh", count: 2).prefix(1 + (round + turn) % 7))
                let position = before == 0 ? 0 : (round &* 7919 &+ turn) % (before + 1)
                // Only the first actor of a round deletes, so no element is deleted twice.
                let deletions = turn == 0 && before > 4 && round % 3 == 0 ? min(2, before - position) : 0
                try documents[author].splice(text, at: position, delete: deletions, insert: insert)
                if round % 5 == turn { try documents[author].put(.root, key: "title", .string("title \(round)")) }
                guard let change = documents[author].commit(time: Int64(round)) else { continue }
                made.append(change)
                length += insert.count - deletions
            }
            for index in 0..<3 { try documents[index].apply(made) }
            all += made
        }
        return (documents[0], all)
    }

    static func rebuilt(_ saved: [UInt8], limits: DocumentLimits) throws -> (changes: [RebuiltChange], statistics: DocumentChunk.RebuildStatistics) {
        guard case .document(let bytes) = try #require(try ChunkReader.readAll(saved).first) else {
            throw AutomergeError.invalidDocument("not a document")
        }
        var statistics = DocumentChunk.RebuildStatistics()
        var changes: [RebuiltChange] = []
        try DocumentChunk(bytes).rebuildChanges(limits: limits, statistics: &statistics) { (change: RebuiltChange) throws(AutomergeError) in
            changes.append(change)
        }
        return (changes, statistics)
    }

    /// However small the batches, the rebuilt changes are the original ones, byte for byte.
    @Test func batchedRebuildIsByteIdentical() async throws {
        try await offPool {
            let (document, originals) = try Self.generate(changes: 400)
            let saved = try document.save()
            let expected = Dictionary(uniqueKeysWithValues: originals.map { ($0.hash, $0.bytes) })
            let whole = try Self.rebuilt(saved, limits: DocumentLimits(maximumChanges: 1 << 20, maximumOps: 1 << 22, batchOps: .max))
            #expect(whole.statistics.batches == 1)
            #expect(whole.changes.count == originals.count)
            var batchesOfOneOp = 0
            for batchOps in [1, 13, 200] {
                let limits = DocumentLimits(maximumChanges: 1 << 20, maximumOps: 1 << 22, batchOps: batchOps)
                let batched = try Self.rebuilt(saved, limits: limits)
                if batchOps == 1 { batchesOfOneOp = batched.statistics.batches }
                #expect(batched.changes.map(\.chunk.hash) == whole.changes.map(\.chunk.hash), "batchOps \(batchOps)")
                for change in batched.changes { #expect(expected[change.chunk.hash] == change.chunk.bytes, "batchOps \(batchOps)") }
                #expect(batched.changes.map(\.metadata) == whole.changes.map(\.metadata))
                #expect(batched.statistics.batches > 1, "batchOps \(batchOps)")
                #expect(batched.statistics.peakOpTableBytes < whole.statistics.peakOpTableBytes, "batchOps \(batchOps)")
            }
            // One op per batch: every change is split into one piece per op.
            let opCount = try originals.reduce(0) { $0 + (try Change(chunk: $1).ops.count) }
            #expect(batchesOfOneOp >= opCount)
        }
    }

    /// Batches do not re-read the op table: the first pass indexes it, and each later batch reads
    /// only the blocks that hold its ops. A text typed in order (one large change, then smaller
    /// ones) is read about twice in all however many batches it takes, not once per batch.
    @Test func batchesReadOnlyTheirBlocks() async throws {
        try await offPool {
            var document = AutomergeDocument(actor: ActorId([UInt8](repeating: 7, count: 16)))
            let text = try document.putObject(.root, key: "text", .text)
            var originals: [ChangeChunk] = []
            let line = String(repeating: "call me ishmael. ", count: 4)
            var length = 0
            for round in 0..<40 {
                // One big change first (split over several batches), then many small ones.
                let insert = round == 0 ? String(repeating: line, count: 60) : line
                try document.splice(text, at: length, delete: 0, insert: insert)
                length += insert.count
                let change = document.commit(time: Int64(round))
                originals.append(try #require(change))
            }
            let saved = try document.save()
            let opCount = try originals.reduce(0) { $0 + (try Change(chunk: $1).ops.count) }
            let expected = Dictionary(uniqueKeysWithValues: originals.map { ($0.hash, $0.bytes) })
            let limits = DocumentLimits(maximumChanges: 1 << 20, maximumOps: 1 << 22, batchOps: 512)
            let batched = try Self.rebuilt(saved, limits: limits)
            #expect(batched.changes.count == originals.count)
            for change in batched.changes { #expect(expected[change.chunk.hash] == change.chunk.bytes) }
            #expect(batched.statistics.batches >= opCount / 512)
            #expect(batched.statistics.batches > 10)
            // One whole (indexing) pass, then about one more over the blocks; a pass per batch would read
            // `batches × opCount`.
            #expect(batched.statistics.opsRead >= opCount)
            #expect(batched.statistics.opsRead <= opCount * 5 / 2, "\(batched.statistics.opsRead) ops read for \(opCount)")
            #expect(batched.statistics.indexBytes > 0)
            let whole = try Self.rebuilt(saved, limits: DocumentLimits(maximumChanges: 1 << 20, maximumOps: 1 << 22, batchOps: .max))
            #expect(whole.statistics.opsRead == opCount)
            #expect(whole.statistics.indexBytes == 0)
        }
    }

    /// The verifier of a received document keeps, by its own accounting, a fixed budget per change
    /// plus one batch of ops; the index it leaves keeps the compact index's budget and no change bytes.
    @Test func verifierMemoryStaysWithinAPerChangeBudget() async throws {
        try await offPool {
            let (document, originals) = try Self.generate(changes: 3_001)
            let saved = try document.save()
            let batchOps = 1_024
            let limits = DocumentLimits(maximumChanges: 1 << 20, maximumOps: 1 << 22, batchOps: batchOps)
            var index = ChangeGraph(retainingDocumentChanges: false)
            let summary = try index.load(saved, limits: limits, inflation: .syncMessage)
            #expect(index.count == originals.count)
            #expect(index.heads == document.heads)
            let statistics = summary.rebuild
            #expect(statistics.batches > 1)
            // Per change: its decoded row (≤ 80 bytes at worst-case array growth), owner entry, hash.
            #expect(statistics.perChangeBytes <= 136 * index.count, "\(statistics.perChangeBytes / index.count) bytes per change")
            // One batch of ops, however large a change: the op table (48 bytes an op), preds, the
            // per-change order and the key strings.
            #expect(statistics.peakOpTableBytes <= batchOps * 96 + 16_384, "\(statistics.peakOpTableBytes) bytes")
            // The whole-document pass would have held every op at once.
            let whole = try Self.rebuilt(saved, limits: DocumentLimits(maximumChanges: 1 << 20, maximumOps: 1 << 22, batchOps: .max))
            #expect(statistics.peakOpTableBytes * 4 < whole.statistics.peakOpTableBytes)
            #expect(index.footprint.changeBytes == 0)
            #expect(index.footprint.index <= CompactIndexTests.bytesPerChange * index.count)
        }
    }

    /// A document chunk re-sealed (fresh checksum) after `tamper` changed its body.
    static func resealed(_ saved: [UInt8], _ tamper: (inout [UInt8], DocumentChunk) throws -> Void) throws -> [UInt8] {
        guard case .document(let chunk) = try #require(try ChunkReader.readAll(saved).first) else {
            throw AutomergeError.invalidDocument("not a document")
        }
        var body = Array(chunk.body)
        let shifted = try DocumentChunk(DocumentChunkBytes(bytes: body, bodyRange: 0..<body.count))
        try tamper(&body, shifted)
        return DocumentWriter.chunk(type: .document, body: body)
    }

    static func expectRefused(_ bytes: [UInt8], _ name: String, matching: (AutomergeError) -> Bool) {
        var graph = ChangeGraph(retainingDocumentChanges: false)
        let limits = DocumentLimits(maximumChanges: 1 << 20, maximumOps: 1 << 22, batchOps: 64)
        do {
            try graph.load(bytes, limits: limits, inflation: .syncMessage)
            Issue.record("\(name): a tampered document was accepted")
        } catch {
            #expect(matching(error.underlying), "\(name): \(error)")
        }
        // Nothing of it is kept.
        #expect(graph.count == 0 && graph.queuedCount == 0 && graph.heads.isEmpty, "\(name)")
    }

    /// A whole document that does not verify is refused with a typed error and leaves the graph empty.
    @Test func tamperedDocumentsAreRefused() async throws {
        try await offPool {
            let (document, _) = try Self.generate(changes: 300)
            let saved = try document.graph.saveDocument(compression: .none)
            let limits = DocumentLimits(maximumChanges: 1 << 20, maximumOps: 1 << 22, batchOps: 64)
            var control = ChangeGraph(retainingDocumentChanges: false)
            try control.load(try Self.resealed(saved) { _, _ in }, limits: limits)
            #expect(control.heads == document.heads)

            // (a) A flipped byte in the text's value column: still decodes, but the changes hash differently.
            let flipped = try Self.resealed(saved) { body, chunk in
                let column = try #require(chunk.opColumns[.value])
                body[column.range.lowerBound + column.range.count / 2] ^= 0x01
            }
            Self.expectRefused(flipped, "flipped value byte") { $0 == .mismatchingHeads }
            // A flipped byte in the op id column breaks the op structure itself.
            let flippedIds = try Self.resealed(saved) { body, chunk in
                let column = try #require(chunk.opColumns[.idCounter])
                body[column.range.lowerBound + column.range.count / 2] ^= 0x40
            }
            Self.expectRefused(flippedIds, "flipped op id byte") { _ in true }
            // (b) Wrong heads.
            let wrongHeads = try Self.resealed(saved) { body, chunk in
                let head = try #require(body.firstRange(of: chunk.heads[0].bytes))
                body[head.lowerBound] ^= 0x80
            }
            Self.expectRefused(wrongHeads, "wrong heads") { $0 == .mismatchingHeads }
            // (c) A missing dep: a change stripped of its deps no longer hashes to what its successors name.
            var stored = try StoredDocument(bytes: saved)
            let row = try #require(stored.changes.indices.last { !stored.changes[$0].dependencies.isEmpty && $0 > 1 })
            stored.changes[row].dependencies.removeLast()
            Self.expectRefused(try stored.write(compression: .none), "missing dep") { $0 == .mismatchingHeads }
            // (c') A dep naming a change that is not earlier in the document.
            let laterDep = try Self.resealed(saved) { body, chunk in
                let column = try #require(chunk.changeColumns[.changeDepsIndex])
                // The delta column opens with a run header then the first dep index (row 0): make it a later row.
                var reader = ByteReader(body, range: column.range)
                let run = try reader.readSLEB()
                #expect(run != 0)
                let valueAt = reader.offset
                #expect(body[valueAt] == 0)
                body[valueAt] = 0x7f
            }
            Self.expectRefused(laterDep, "dep on a later row") {
                if case .invalidDocument(let reason) = $0 { reason.contains("later or unknown row") } else { false }
            }
        }
    }
}
