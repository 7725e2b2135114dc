import Foundation
import Testing

@testable import AutomergeCore

/// Golden tests of the op set over the reference's fixtures: JSON views, typed views with
/// conflicts, historical reads, and document order against the stored op rows.
@Suite(.needsFixtures) struct EngineFixtureTests {
    /// Generated documents (every one has a JSON view).
    static let generated: [String] = Fixtures.files(in: "generated", suffix: ".typed.json").map {
        String($0.dropFirst("generated/".count).dropLast(".typed.json".count))
    }

    /// Upstream files that load and have a JSON view, beside their file name.
    static let upstream: [String] = Fixtures.files(in: "upstream", suffix: ".json").compactMap { path in
        let name = String(path.dropFirst("upstream/".count).dropLast(".json".count))
        guard !name.hasSuffix(".meta"), !name.hasSuffix(".typed"), !name.hasSuffix(".expected"), name != "manifest" else { return nil }
        return name
    }

    static let actor = ActorId(Array(repeating: 0xee, count: 16))

    static func text(_ path: String) throws -> String { String(decoding: try Fixtures.bytes(path), as: UTF8.self) }

    /// An op set built by replaying changes in the graph's causal order.
    static func replayed(_ bytes: [UInt8]) throws -> (OpSet, ChangeGraph) {
        var graph = ChangeGraph()
        try graph.load(bytes)
        var opSet = OpSet()
        for hash in graph.allHashes {
            let chunk = try #require(graph.chunk(for: hash))
            try opSet.apply(try Change(chunk: chunk))
        }
        return (opSet, graph)
    }

    @Test(arguments: generated)
    func generatedDocumentMaterialisesToItsJSON(name: String) async throws {
        try await offPool {
            let expected = try Self.text("generated/\(name).json")
            let loaded = try AutomergeDocument(loading: try Fixtures.bytes("generated/\(name).automerge"), actor: Self.actor)
            #expect(loaded.json().serialized() == expected)
            let replayed = try Self.replayed(try Fixtures.bytes("generated/\(name).changes")).0
            #expect(replayed.json().serialized() == expected)
            let nocompress = try AutomergeDocument(loading: try Fixtures.bytes("generated/\(name).nocompress.automerge"), actor: Self.actor)
            #expect(nocompress.json().serialized() == expected)
        }
    }

    @Test(arguments: generated)
    func generatedDocumentTypedViewMatches(name: String) async throws {
        try await offPool {
            let expected = try Self.text("generated/\(name).typed.json")
            let loaded = try AutomergeDocument(loading: try Fixtures.bytes("generated/\(name).automerge"), actor: Self.actor)
            #expect(TypedView.document(loaded.opSet).serialized() == expected)
            let replayed = try Self.replayed(try Fixtures.bytes("generated/\(name).changes")).0
            #expect(TypedView.document(replayed).serialized() == expected)
        }
    }

    /// Document order from replayed changes equals the rows the reference stored, in order:
    /// the strongest check of RGA order, map key order and successor lists.
    @Test(arguments: generated)
    func replayedChangesGiveTheStoredRowsInDocumentOrder(name: String) async throws {
        try await offPool {
            let bytes = try Fixtures.bytes("generated/\(name).automerge")
            var reader = ChunkReader(bytes)
            guard case .document(let documentBytes)? = try reader.next() else {
                Issue.record("not a document")
                return
            }
            let document = try DocumentChunk(documentBytes)
            let stored = try document.storedOps()
            let replayed = try Self.replayed(try Fixtures.bytes("generated/\(name).changes")).0
            #expect(replayed.documentActors == document.actors)
            let rows = replayed.documentOps()
            #expect(rows.count == stored.count)
            for (index, (ours, theirs)) in zip(rows, stored).enumerated() where ours != theirs {
                Issue.record("row \(index): \(ours) != \(theirs)")
                break
            }
            // The fast path reproduces them too.
            #expect(try OpSet(document: document).documentOps() == stored)
        }
    }

    @Test(arguments: generated)
    func prefixHeadsReadLikeThePrefixDocument(name: String) async throws {
        try await offPool {
            guard FileManager.default.fileExists(atPath: Fixtures.url("generated/\(name).prefix.automerge").path) else { return }
            let prefix = try AutomergeDocument(loading: try Fixtures.bytes("generated/\(name).prefix.automerge"), actor: Self.actor)
            let full = try AutomergeDocument(loading: try Fixtures.bytes("generated/\(name).automerge"), actor: Self.actor)
            #expect(full.json(at: prefix.heads) == prefix.json())
            #expect(full.json(at: full.heads) == full.json())
            #expect(full.json(at: []).serialized() == "{}\n")
            // Every earlier head set of the history reads like the changes up to it, replayed.
            let changes = full.changes
            var partial = AutomergeDocument(actor: Self.actor)
            for chunk in changes.prefix(40) {
                try partial.apply([chunk])
                #expect(full.json(at: partial.heads) == partial.json())
            }
        }
    }

    @Test(arguments: upstream)
    func upstreamDocumentMaterialisesToItsJSON(name: String) async throws {
        try await offPool {
            let expected = try Self.text("upstream/\(name).json")
            let bytes = try Fixtures.bytes("upstream/\(name)")
            let loaded = try AutomergeDocument(loading: bytes, actor: Self.actor)
            #expect(loaded.json().serialized() == expected)
            let typedPath = "upstream/\(name).typed.json"
            if FileManager.default.fileExists(atPath: Fixtures.url(typedPath).path) {
                #expect(TypedView.document(loaded.opSet).serialized() == (try Self.text(typedPath)))
            }
        }
    }

    /// Replaying the rebuilt changes of the smaller upstream documents gives the stored rows.
    @Test(arguments: ["exemplar", "broken_zero_width_mark.automerge", "monday-meeting-notes.automerge", "webstraits.amrg", "moby-dick.automerge"])
    func upstreamReplayGivesTheStoredRows(name: String) async throws {
        try await offPool {
            let bytes = try Fixtures.bytes("upstream/\(name)")
            var reader = ChunkReader(bytes)
            guard case .document(let documentBytes)? = try reader.next() else { return }
            let document = try DocumentChunk(documentBytes)
            let stored = try document.storedOps()
            var opSet = OpSet()
            try document.rebuildChanges { (change: RebuiltChange) throws(AutomergeError) in
                try opSet.apply(try Change(chunk: change.chunk))
            }
            let rows = opSet.documentOps()
            #expect(rows.count == stored.count)
            for (index, (ours, theirs)) in zip(rows, stored).enumerated() where ours != theirs {
                Issue.record("row \(index): \(ours) != \(theirs)")
                break
            }
            #expect(opSet.json().serialized() == (try Self.text("upstream/\(name).json")))
        }
    }

    @Test func conflictsAreReportedWithTheirOpIds() throws {
        let loaded = try AutomergeDocument(loading: try Fixtures.bytes("generated/conflicts.automerge"), actor: Self.actor)
        let opSet = loaded.opSet
        let expected = try Fixtures.json("generated/conflicts.conflicts.json")
        let table = try #require(expected["getConflicts"] as? [String: Any])
        let keyConflicts = try #require(table["k"] as? [String: Any])
        let values = opSet.getAll(.root, key: "k")
        #expect(Set(values.map(\.id.description)) == Set(keyConflicts.keys))
        #expect(values.map(\.value) == [.scalar(.string("from a")), .scalar(.int(42)), .scalar(.bool(true))])
        guard case .object(let list, .list)? = opSet.get(.root, key: "list") else {
            Issue.record("list missing")
            return
        }
        #expect(opSet.getAll(list, index: 0).count == 1)
        #expect(opSet.getAll(list, index: 4).map(\.value) == [.scalar(.int(10)), .scalar(.int(20)), .scalar(.int(30))])
        let objectConflicts = opSet.getAll(.root, key: "obj")
        #expect(
            objectConflicts.map { $0.id.description } == [
                "18@1115e96f9f41e96bd1b5068c1d3bcb3e", "18@295de13b104f4073db27ee2128e266f9", "18@8dbf9e67de20270a8494e65bf2911910",
            ]
        )
    }

    @Test func marksMatchTheReference() throws {
        let loaded = try AutomergeDocument(loading: try Fixtures.bytes("generated/marks.automerge"), actor: Self.actor)
        guard case .object(let text, .text)? = loaded.opSet.get(.root, key: "text") else {
            Issue.record("text missing")
            return
        }
        let expected = try #require(try Fixtures.json("generated/marks.marks.json")["marks"] as? [[String: Any]])
        let marks = loaded.opSet.marks(text)
        #expect(marks.map(\.name) == expected.compactMap { $0["name"] as? String })
        #expect(marks.map(\.start) == expected.compactMap { $0["start"] as? Int })
        #expect(marks.map(\.end) == expected.compactMap { $0["end"] as? Int })
    }
}
