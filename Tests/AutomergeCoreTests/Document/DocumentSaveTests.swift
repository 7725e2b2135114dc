import Foundation
import Testing

@testable import AutomergeCore

/// The whole pipeline the server uses: changes → op set → canonical document chunk, against
/// the reference's own saves (docs/binary-format.md §5.4–§5.6).
@Suite(.needsFixtures) struct DocumentSaveFixtureTests {
    static let names = DocumentWriterFixtureTests.generatedNames

    /// The reference's uncompressed save, with explicit "" messages turned into none where the
    /// source was change chunks (which cannot tell the two apart).
    static func expectedUncompressed(_ name: String, fromChanges: Bool) throws -> [UInt8] {
        let bytes = try DocumentWriterFixtureTests.firstChunk(try Fixtures.bytes(name + ".nocompress.automerge"))
        guard fromChanges else { return bytes }
        var stored = try StoredDocument(bytes: bytes)
        for index in stored.changes.indices where stored.changes[index].message == "" { stored.changes[index].message = nil }
        return try stored.write(compression: .none)
    }

    /// Replaying every change (from the change chunks, and from the changes rebuilt out of the
    /// reference's document) and writing the result gives `saveNoCompress()` byte for byte, and
    /// `save()`'s columns and compression choices.
    @Test(arguments: names)
    func replayedChangesSaveToTheReferenceBytes(name: String) async throws {
        try await offPool {
            for source in [".changes", ".automerge"] {
                var graph = ChangeGraph()
                try graph.load(try Fixtures.bytes(name + source))
                let opSet = try graph.makeOpSet()
                let saved = try graph.save(opSet: opSet, compression: .none)
                #expect(saved == (try Self.expectedUncompressed(name, fromChanges: source == ".changes")), "\(name)\(source)")
                if source == ".automerge" {
                    let compressed = try graph.save(opSet: opSet)
                    let reference = try DocumentWriterFixtureTests.firstChunk(try Fixtures.bytes(name + ".automerge"))
                    #expect(try DecodedChunk(compressed) == DecodedChunk(reference), "\(name)")
                }
            }
        }
    }

    /// The fast path (document chunk read straight into the op set) saves the same bytes.
    @Test(arguments: names)
    func loadedDocumentSavesToTheReferenceBytes(name: String) async throws {
        try await offPool {
            let document = try AutomergeDocument(loading: try Fixtures.bytes(name + ".automerge"), actor: ActorId([0xEE]))
            #expect(try document.save(compression: .none) == Self.expectedUncompressed(name, fromChanges: false), "\(name)")
        }
    }

    /// Real-world documents: rebuilding every change from the document, replaying them into an
    /// op set and writing gives the same columns as the original (docs/binary-format.md §5.5 then §5.4).
    @Test(arguments: [
        "upstream/monday-meeting-notes.automerge", "upstream/exemplar", "upstream/broken_zero_width_mark.automerge",
        "upstream/webstraits.amrg", "upstream/moby-dick.automerge", "upstream/stephen.amrg", "upstream/godot-modeled.amrg",
    ])
    func upstreamDocumentsRebuildAndSaveIdentically(path: String) throws {
        let original = try DocumentWriterFixtureTests.firstChunk(try Fixtures.bytes(path))
        var graph = ChangeGraph()
        try graph.load(original)
        let saved = try graph.save(opSet: try graph.makeOpSet())
        #expect(try DecodedChunk(saved).sameContent(as: DecodedChunk(original)), "\(path)")
    }

    /// Save → load → save is a fixed point, and the saved document reads back to the same JSON.
    @Test(arguments: names)
    func saveLoadSaveIsAFixedPoint(name: String) async throws {
        try await offPool {
            var graph = ChangeGraph()
            try graph.load(try Fixtures.bytes(name + ".changes"))
            let opSet = try graph.makeOpSet()
            let first = try graph.save(opSet: opSet)
            let reloaded = try AutomergeDocument(loading: first, actor: ActorId([0xEE]))
            #expect(try reloaded.save() == first, "\(name)")
            #expect(reloaded.json() == opSet.json(), "\(name)")
            #expect(reloaded.json().serialized() == (try String(contentsOf: Fixtures.url(name + ".json"), encoding: .utf8)), "\(name)")
        }
    }
}

/// Saving documents made by random concurrent edits.
@Suite struct DocumentSavePropertyTests {
    typealias Edits = EnginePropertyTests

    /// Peers that merged the same changes in different orders store the same op columns (the
    /// change rows follow each peer's application order, as in the reference); every save
    /// reloads to the same JSON and re-saves to the same bytes.
    @Test(arguments: 0..<8)
    func concurrentEditsSaveConsistently(seed: Int) async throws {
        try await offPool {
            var rng = Edits.SplitMix(state: UInt64(seed) &* 104_729 &+ 3)
            let actorCount = 2 + seed % 2
            var peers = (0..<actorCount).map { AutomergeDocument(actor: Edits.actor(UInt8($0 + 1))) }
            try peers[0].putObject(.root, key: "list", .list)
            let text = try peers[0].putObject(.root, key: "text", .text)
            try peers[0].splice(text, at: 0, delete: 0, insert: "seed")
            let committed = peers[0].commit(time: 1)
            let base = try #require(committed)
            for index in peers.indices.dropFirst() { try peers[index].apply([base]) }
            for round in 0..<5 {
                for index in peers.indices {
                    for _ in 0..<Int.random(in: 1...5, using: &rng) { try Edits.edit(&peers[index], &rng) }
                    peers[index].commit(time: Int64(round + 2))
                }
                let from = Int.random(in: 0..<actorCount, using: &rng)
                let to = Int.random(in: 0..<actorCount, using: &rng)
                if from != to { try peers[to].apply(peers[from].changes(since: peers[to].heads)) }
            }
            for to in peers.indices {
                for from in peers.indices where from != to { try peers[to].apply(peers[from].changes(since: peers[to].heads)) }
            }
            let expectedJSON = peers[0].json()
            let expectedOps = try DecodedChunk(peers[0].save(compression: .none)).opColumns
            for peer in peers {
                let saved = try peer.save()
                #expect(try DecodedChunk(saved).opColumns == DecodedChunk(peer.save(compression: .none)).opColumns)
                #expect(try DecodedChunk(peer.save(compression: .none)).opColumns == expectedOps)
                let reloaded = try AutomergeDocument(loading: saved, actor: Edits.actor(0xEE))
                #expect(reloaded.json() == expectedJSON)
                #expect(reloaded.heads == peer.heads)
                #expect(try reloaded.save() == saved)
            }
            // A fresh document applying everything in a random causal order: same op columns.
            var shuffled = AutomergeDocument(actor: Edits.actor(0xEF))
            for chunk in try Edits.randomCausalOrder(peers[0].changes, &rng) { try shuffled.apply([chunk]) }
            #expect(try DecodedChunk(shuffled.save(compression: .none)).opColumns == expectedOps)
        }
    }

    /// An op set holding ops of an actor the graph has no change from cannot be saved with it.
    @Test func mismatchedOpSetIsRefused() throws {
        var a = AutomergeDocument(actor: Edits.actor(1))
        try a.put(.root, key: "k", .int(1))
        a.commit()
        var b = AutomergeDocument(actor: Edits.actor(2))
        try b.put(.root, key: "k", .int(2))
        b.commit()
        #expect(throws: AutomergeError.self) { try a.graph.save(opSet: b.opSet) }
        #expect(throws: AutomergeError.self) { try ChangeGraph(retainingChanges: false).makeOpSet() }
    }
}
