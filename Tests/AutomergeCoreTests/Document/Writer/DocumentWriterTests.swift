import ByteEncodings
import Foundation
import Testing

@testable import AutomergeCore

/// The document writer against the reference's own saves: reading a document's stored rows and
/// writing them again must give the reference's bytes.
@Suite(.needsFixtures) struct DocumentWriterFixtureTests {
    static let generatedNames: [String] =
        Fixtures.available
        ? (Fixtures.files(in: "generated", suffix: ".nocompress.automerge") + Fixtures.files(in: "generated/am2", suffix: ".nocompress.automerge"))
            .map { String($0.dropLast(".nocompress.automerge".count)) }
        : []

    /// Upstream documents whose first chunk is a document that the reference loads.
    static let upstreamDocuments = [
        "upstream/essay.amrg", "upstream/moby-dick.automerge", "upstream/webstraits.amrg", "upstream/monday-meeting-notes.automerge",
        "upstream/stephen.amrg", "upstream/godot-modeled.amrg", "upstream/exemplar", "upstream/broken_zero_width_mark.automerge",
    ]

    /// The first chunk of a file (a `save()` may be followed by change chunks).
    static func firstChunk(_ bytes: [UInt8]) throws -> [UInt8] {
        var reader = ChunkReader(bytes)
        _ = try reader.next()
        return Array(bytes[0..<reader.position])
    }

    /// Uncompressed writing reproduces `saveNoCompress()` exactly, whether the rows were read
    /// from the compressed or the uncompressed save.
    @Test(arguments: generatedNames)
    func uncompressedIsByteIdentical(name: String) async throws {
        try await offPool {
            let expected = try Fixtures.bytes(name + ".nocompress.automerge")
            for source in [".nocompress.automerge", ".automerge"] {
                let stored = try StoredDocument(bytes: try Fixtures.bytes(name + source))
                let written = try stored.write(compression: .none)
                #expect(written == (try Self.firstChunk(expected)), "\(name)\(source)")
            }
        }
    }

    /// Compressed writing: the same columns, specs (deflate bits included), heads and head
    /// indexes as `save()`. The DEFLATE streams themselves come from zlib here and from Rust's
    /// miniz_oxide in the reference, so the compressed bytes may differ; the test records which.
    @Test(arguments: generatedNames)
    func compressedMatchesReference(name: String) async throws {
        try await offPool {
            let reference = try Self.firstChunk(try Fixtures.bytes(name + ".automerge"))
            let written = try StoredDocument(bytes: reference).write(compression: .reference)
            let expected = try DecodedChunk(reference)
            let actual = try DecodedChunk(written)
            #expect(actual == expected, "\(name)")
            if !expected.hasDeflatedColumn {
                #expect(written == reference, "\(name): without compressed columns the bytes must be identical")
            }
        }
    }

    /// Every other document the reference saved in the fixtures: prefix saves, the peers'
    /// documents of the sync conversations, and the NodeFS snapshots of the reference server.
    static let otherSaves: [String] = {
        guard Fixtures.available else { return [] }
        let snapshots = (FileManager.default.enumerator(atPath: Fixtures.url("nodefs").path)?.allObjects as? [String] ?? [])
            .filter { $0.contains("/snapshot/") }.sorted().map { "nodefs/" + $0 }
        return Fixtures.files(in: "generated", suffix: ".prefix.automerge") + Fixtures.files(in: "generated/am2", suffix: ".prefix.automerge")
            + Fixtures.files(in: "sync/conversations", suffix: ".automerge") + snapshots
    }()

    /// Their rows written back give the same chunk: the same bytes without compressed columns,
    /// the same inflated columns and compression choices with them.
    @Test(arguments: otherSaves)
    func otherSavesRoundTrip(path: String) async throws {
        try await offPool {
            let original = try Self.firstChunk(try Fixtures.bytes(path))
            let stored = try StoredDocument(bytes: original)
            let written = try stored.write(compression: .reference)
            let expected = try DecodedChunk(original)
            #expect(try DecodedChunk(written) == expected, "\(path)")
            if !expected.hasDeflatedColumn { #expect(written == original, "\(path)") }
        }
    }

    /// Upstream documents (no uncompressed save given): writing the stored rows back gives the
    /// same inflated columns, the same compressed-or-not choice per column, heads and head
    /// indexes; where the original has no compressed column, the very same bytes.
    @Test(arguments: upstreamDocuments)
    func upstreamColumnsRoundTrip(path: String) async throws {
        try await offPool {
            let original = try Self.firstChunk(try Fixtures.bytes(path))
            let stored = try StoredDocument(bytes: original)
            let expected = try DecodedChunk(original)
            let plain = try stored.write(compression: .none)
            #expect(try DecodedChunk(plain).sameContent(as: expected), "\(path)")
            let compressed = try stored.write(compression: .reference)
            #expect(try DecodedChunk(compressed) == expected, "\(path)")
            if !expected.hasDeflatedColumn { #expect(compressed == original, "\(path)") }
            #expect(try StoredDocument(bytes: compressed).ops == stored.ops)
        }
    }

    /// The written document loads as the reference's does: same rebuilt changes and heads.
    @Test(arguments: ["upstream/monday-meeting-notes.automerge", "upstream/exemplar", "upstream/broken_zero_width_mark.automerge"])
    func writtenDocumentRebuilds(path: String) async throws {
        try await offPool {
            let original = try Self.firstChunk(try Fixtures.bytes(path))
            let written = try StoredDocument(bytes: original).write(compression: .reference)
            guard case .document(let a) = try ChunkReader.readAll(original)[0], case .document(let b) = try ChunkReader.readAll(written)[0]
            else {
                Issue.record("not a document")
                return
            }
            let before = try DocumentChunk(a).rebuildChanges().map(\.chunk.bytes)
            let after = try DocumentChunk(b).rebuildChanges().map(\.chunk.bytes)
            #expect(before == after)
        }
    }
}

/// A document chunk taken apart for comparison: header fields and every column, inflated.
struct DecodedChunk: Equatable {
    var actors: [ActorId]
    var heads: [ChangeHash]
    var headIndexes: [Int]?
    /// Raw specs as stored (deflate bit included) with the inflated data.
    var changeColumns: [ColumnEntry]
    var opColumns: [ColumnEntry]

    struct ColumnEntry: Equatable {
        var spec: ColumnSpec
        var data: [UInt8]
    }

    var hasDeflatedColumn: Bool { (changeColumns + opColumns).contains { $0.spec.isDeflated } }

    /// Same content, ignoring which columns are compressed.
    func sameContent(as other: DecodedChunk) -> Bool {
        func normalized(_ columns: [ColumnEntry]) -> [ColumnEntry] { columns.map { ColumnEntry(spec: $0.spec.normalized, data: $0.data) } }
        return actors == other.actors && heads == other.heads && headIndexes == other.headIndexes
            && normalized(changeColumns) == normalized(other.changeColumns) && normalized(opColumns) == normalized(other.opColumns)
    }

    init(_ bytes: [UInt8]) throws {
        guard case .document(let chunk) = try ChunkReader.readAll(bytes).first else { throw AutomergeError.invalidDocument("no document") }
        var reader = ByteReader(chunk.bytes, range: chunk.bodyRange)
        actors = try reader.readActorArray("actors")
        heads = try reader.readHashArray("heads")
        let changeMeta = try ColumnMetadata.read(&reader, allowDeflate: true)
        let opMeta = try ColumnMetadata.read(&reader, allowDeflate: true)
        func entries(_ meta: [(ColumnSpec, Int)]) throws -> [ColumnEntry] {
            try ColumnMetadata.locate(meta, in: &reader).map { column in
                let data = chunk.bytes[column.range]
                return ColumnEntry(spec: column.spec, data: column.spec.isDeflated ? try Deflate.inflate(data) : Array(data))
            }
        }
        changeColumns = try entries(changeMeta)
        opColumns = try entries(opMeta)
        if reader.isAtEnd {
            headIndexes = nil
        } else {
            headIndexes = try heads.map { _ in Int(try reader.readULEB()) }
        }
    }
}

/// Change rows derived from a change graph against the reference's saves.
@Suite(.needsFixtures) struct DocumentChangeTableTests {
    static let names = DocumentWriterFixtureTests.generatedNames

    /// Loading the document, or its changes in `getAllChanges` order, gives the stored rows;
    /// with the stored op rows, `save` then writes the reference's bytes. (Change chunks cannot
    /// tell an explicit "" message from none, so from `.changes` both come back as none, and
    /// the reference's document differs from that one only there.)
    @Test(arguments: names)
    func graphRowsMatchStoredRows(name: String) async throws {
        try await offPool {
            let expected = try Fixtures.bytes(name + ".nocompress.automerge")
            let stored = try StoredDocument(bytes: expected)
            for source in [".automerge", ".changes"] {
                var graph = ChangeGraph()
                try graph.load(try Fixtures.bytes(name + source))
                let table = try graph.documentChangeTable()
                var rows = stored
                if source == ".changes" {
                    for index in rows.changes.indices where rows.changes[index].message == "" { rows.changes[index].message = nil }
                }
                #expect(table.actors == rows.actors, "\(name)\(source)")
                #expect(table.changes == rows.changes, "\(name)\(source)")
                #expect(table.heads == rows.documentHeads, "\(name)\(source)")
                let saved = try graph.save(ops: stored.ops, table: table, compression: .none)
                #expect(saved == (try rows.write(compression: .none)), "\(name)\(source)")
                if source == ".automerge" { #expect(saved == expected, "\(name)") }
            }
        }
    }

    /// A document saved as a prefix, plus the remaining changes as an incremental save, loads
    /// into the rows of the full save.
    @Test(arguments: names.filter { FileManager.default.fileExists(atPath: Fixtures.url($0 + ".incremental").path) })
    func prefixPlusIncrementalMatches(name: String) async throws {
        try await offPool {
            let stored = try StoredDocument(bytes: try Fixtures.bytes(name + ".automerge"))
            var graph = ChangeGraph()
            try graph.load(try Fixtures.bytes(name + ".prefix.automerge") + (try Fixtures.bytes(name + ".incremental")))
            let table = try graph.documentChangeTable()
            // Both parts were made from change chunks (the prefix by applying `getAllChanges`
            // output), which cannot keep an explicit "" message (see above).
            var expected = stored.changes
            for index in expected.indices where expected[index].message == "" { expected[index].message = nil }
            #expect(table.changes == expected)
            #expect(table.heads == stored.documentHeads)
        }
    }

    /// The whole documents the reference sends in V2 sync replies: loading the sender's saved
    /// document into a graph and saving it with the document's op rows gives the same chunk.
    @Test func syncWholeDocumentReplies() throws {
        var checked = 0
        for path in Fixtures.files(in: "sync/conversations", suffix: ".json") where !path.hasSuffix("index.json") {
            let conversation = try Fixtures.json(path)
            guard let messages = conversation["messages"] as? [[String: Any]] else { continue }
            for message in messages {
                guard let decoded = message["decoded"] as? [String: Any], let entries = decoded["changes"] as? [String],
                    let direction = message["dir"] as? String
                else { continue }
                for entry in entries {
                    guard let bytes = Hex.decode(entry), bytes.count > 8, bytes[8] == ChunkType.document.rawValue else { continue }
                    let sender = String(path.dropLast(".json".count)) + (direction == "a2b" ? ".a.automerge" : ".b.automerge")
                    var graph = ChangeGraph()
                    try graph.load(try Fixtures.bytes(sender))
                    let stored = try StoredDocument(bytes: bytes)
                    let saved = try graph.save(ops: stored.ops)
                    let expected = try DecodedChunk(bytes)
                    #expect(try DecodedChunk(saved) == expected, "\(path)")
                    if !expected.hasDeflatedColumn { #expect(saved == bytes, "\(path)") }
                    #expect(try graph.save(ops: stored.ops, compression: .none) == (try stored.write(compression: .none)))
                    checked += 1
                }
            }
        }
        #expect(checked >= 9)
    }

    /// `save` appends queued orphans as raw change chunks, in arrival order, after the document.
    @Test func saveAppendsOrphans() throws {
        let prefix = try Fixtures.bytes("generated/list-edits.prefix.automerge")
        let rest = try ChunkReader.readAll(try Fixtures.bytes("generated/list-edits.incremental")).compactMap { chunk -> ChangeChunk? in
            if case .change(let change) = chunk { change } else { nil }
        }
        try #require(rest.count >= 3)
        let stored = try StoredDocument(bytes: prefix)
        var graph = ChangeGraph()
        try graph.load(prefix)
        // Two later changes arrive without the one they build on: both wait as orphans.
        try graph.add(rest[2])
        try graph.add(rest[1])
        #expect(graph.queuedCount == 2)
        let saved = try graph.save(ops: stored.ops, compression: .none)
        #expect(saved == (try stored.write(compression: .none)) + rest[2].bytes + rest[1].bytes)
        // It loads back with the orphans queued again, and the missing change completes it.
        var reloaded = ChangeGraph()
        try reloaded.load(saved)
        #expect(reloaded.queuedCount == 2)
        #expect(reloaded.heads == stored.heads)
        try reloaded.add(rest[0])
        #expect(reloaded.queuedCount == 0)
        #expect(reloaded.count == graph.count + 3)
    }
}
