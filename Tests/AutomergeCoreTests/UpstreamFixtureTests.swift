import Foundation
import TestSupport
import Testing

@testable import AutomergeCore

/// Every reference file the fixtures describe, loaded through `ChangeGraph`: the heads, change
/// counts and per-change metadata must be what JS Automerge reports, and every file JS rejects
/// must be rejected with a typed error.
@Suite(.needsFixtures) struct UpstreamFixtureTests {
    // MARK: - Helpers

    /// One batch however large the document: the small-batch rebuild has its own slice
    /// (`DocumentRebuildTests`, `StreamingRebuildTests`); these check what the reference reports.
    static let limits = DocumentLimits(
        maximumChanges: DocumentLimits.default.maximumChanges,
        maximumOps: DocumentLimits.default.maximumOps,
        batchOps: .max
    )

    static func hexList(_ value: Any?) -> [String] { ((value as? [String]) ?? []).sorted() }

    static func loadedGraph(_ bytes: [UInt8]) throws -> ChangeGraph {
        var graph = ChangeGraph()
        try graph.load(bytes, limits: Self.limits)
        return graph
    }

    /// Checks every entry of a meta file's `changeList` against the graph's stored metadata.
    static func expectChangeList(_ meta: [String: Any], in graph: ChangeGraph, _ label: String) throws {
        guard let changeList = meta["changeList"] as? [[String: Any]] else { return }
        #expect(changeList.count == graph.count, "\(label): changeList has \(changeList.count) entries")
        for entry in changeList {
            let hashHex = try #require(entry["hash"] as? String)
            let hash = try #require(ChangeHash(hex: hashHex))
            let found = graph.metadata(for: hash)
            let metadata = try #require(found, "\(label): change \(hashHex) not in the graph")
            #expect(metadata.hash == hash)
            #expect(metadata.actor.hex == entry["actor"] as? String, "\(label) \(hashHex): actor")
            #expect(metadata.seq == (entry["seq"] as? NSNumber)?.uint64Value, "\(label) \(hashHex): seq")
            #expect(metadata.startOp == (entry["startOp"] as? NSNumber)?.uint64Value, "\(label) \(hashHex): startOp")
            #expect(metadata.maxOp == (entry["maxOp"] as? NSNumber)?.uint64Value, "\(label) \(hashHex): maxOp")
            #expect(metadata.time == (entry["time"] as? NSNumber)?.int64Value, "\(label) \(hashHex): time")
            #expect(metadata.message == entry["message"] as? String, "\(label) \(hashHex): message")
            #expect(metadata.deps.map(\.hex).sorted() == hexList(entry["deps"]), "\(label) \(hashHex): deps")
        }
    }

    // MARK: - upstream/manifest.json

    struct UpstreamEntry: CustomTestStringConvertible, Sendable {
        let file: String
        let loads: Bool
        let heads: [String]
        let changes: Int?
        let meta: String?
        var testDescription: String { file }
    }

    static let upstreamEntries: [UpstreamEntry] = {
        guard Fixtures.available, let manifest = try? Fixtures.json("upstream/manifest.json"),
            let files = manifest["files"] as? [[String: Any]]
        else { return [] }
        return files.compactMap { file -> UpstreamEntry? in
            guard let name = file["file"] as? String, let expectation = file["expectation"] as? String else { return nil }
            let js = (file["js"] as? [String: Any])?["3.2.3"] as? [String: Any]
            return UpstreamEntry(
                file: name,
                loads: expectation == "loads",
                heads: hexList(js?["heads"]),
                changes: (js?["changes"] as? NSNumber)?.intValue,
                meta: file["meta"] as? String
            )
        }
    }()

    @Test func manifestIsComplete() throws {
        // Every file with an expectation is covered, both kinds occur, and every other file in
        // the manifest is the sync message tested below.
        let manifest = try Fixtures.json("upstream/manifest.json")
        let files = try #require(manifest["files"] as? [[String: Any]])
        #expect(Self.upstreamEntries.count + 1 == files.count)
        #expect(Self.upstreamEntries.contains { $0.loads })
        #expect(Self.upstreamEntries.contains { !$0.loads })
        #expect(files.contains { $0["file"] as? String == "slowSyncMessage.amrgsync" && $0["expectation"] == nil })
    }

    @Test(arguments: upstreamEntries)
    func upstreamFile(_ entry: UpstreamEntry) async throws {
        let bytes = try Fixtures.bytes("upstream/" + entry.file)
        var graph = ChangeGraph()
        if entry.loads {
            // moby-dick and essay take seconds in a debug build: loaded off the cooperative pool.
            graph = try await offPool { try Self.loadedGraph(bytes) }
            #expect(graph.heads.map(\.hex) == entry.heads)
            #expect(graph.count == entry.changes)
            #expect(graph.queuedCount == 0)
            if let metaName = entry.meta {
                let meta = try Fixtures.json("upstream/" + metaName)
                #expect(Self.hexList(meta["heads"]) == entry.heads)
                try Self.expectChangeList(meta, in: graph, entry.file)
            }
        } else {
            #expect(throws: AutomergeError.self, "\(entry.file) must be rejected") { try graph.load(bytes, limits: Self.limits) }
            #expect(graph.count == 0)
            #expect(graph.heads.isEmpty)
            #expect(graph.queuedCount == 0)
        }
    }

    // MARK: - generated/ and generated/am2/

    static let generatedNames: [String] = {
        guard Fixtures.available else { return [] }
        return (Fixtures.files(in: "generated", suffix: ".meta.json") + Fixtures.files(in: "generated/am2", suffix: ".meta.json"))
            .map { String($0.dropLast(".meta.json".count)) }
    }()

    @Test(arguments: generatedNames)
    func generatedDocument(_ name: String) async throws {
        try await offPool { try Self.expectGeneratedDocument(name) }
    }

    static func expectGeneratedDocument(_ name: String) throws {
        let meta = try Fixtures.json(name + ".meta.json")
        let heads = Self.hexList(meta["heads"])
        let changes = try #require((meta["changes"] as? NSNumber)?.intValue)
        for suffix in [".automerge", ".nocompress.automerge", ".changes"] {
            let graph = try Self.loadedGraph(try Fixtures.bytes(name + suffix))
            #expect(graph.heads.map(\.hex) == heads, "\(name)\(suffix)")
            #expect(graph.count == changes, "\(name)\(suffix)")
            #expect(graph.queuedCount == 0)
            try Self.expectChangeList(meta, in: graph, name + suffix)
        }
        if let incremental = meta["incremental"] as? [String: Any] {
            let prefix = try Fixtures.bytes(name + ".prefix.automerge")
            let rest = try Fixtures.bytes(name + ".incremental")
            let prefixGraph = try Self.loadedGraph(prefix)
            #expect(prefixGraph.heads.map(\.hex) == Self.hexList(incremental["prefixHeads"]), "\(name).prefix.automerge")
            #expect(prefixGraph.count == (incremental["prefixChanges"] as? NSNumber)?.intValue)
            let whole = try Self.loadedGraph(prefix + rest)
            #expect(whole.heads.map(\.hex) == heads, "\(name) prefix + incremental")
            #expect(whole.count == changes)
            // The same in two steps, as a store applies an incremental file to a loaded document.
            var stepwise = prefixGraph
            try stepwise.load(rest, limits: Self.limits)
            #expect(stepwise.heads.map(\.hex) == heads, "\(name) prefix, then incremental")
            // And the other way round: the incremental's changes wait for the prefix.
            var reversed = try Self.loadedGraph(rest)
            #expect(reversed.count + reversed.queuedCount == changes - prefixGraph.count)
            try reversed.load(prefix, limits: Self.limits)
            #expect(reversed.heads.map(\.hex) == heads, "\(name) incremental, then prefix")
            #expect(reversed.queuedCount == 0)
        }
    }

    @Test func generatedFoldersAreCovered() throws {
        // Every .automerge file in the generated folders has a meta file, so none was skipped.
        for folder in ["generated", "generated/am2"] {
            let documents = Fixtures.files(in: folder, suffix: ".automerge").filter {
                !$0.hasSuffix(".prefix.automerge") && !$0.hasSuffix(".nocompress.automerge")
            }
            #expect(!documents.isEmpty)
            for document in documents {
                #expect(Self.generatedNames.contains(String(document.dropLast(".automerge".count))), "\(document)")
            }
        }
    }

    // MARK: - slowSyncMessage.amrgsync

    @Test func slowSyncMessageAppliesToAnEmptyGraph() throws {
        let meta = try Fixtures.json("upstream/slowSyncMessage.amrgsync.meta.json")
        let applied = try #require(meta["appliedToEmptyDoc"] as? [String: Any])
        let decodedMeta = try #require(meta["decodeSyncMessage"] as? [String: Any])
        let message = try SyncMessage.decode(try Fixtures.bytes("upstream/slowSyncMessage.amrgsync"))
        #expect(message.changes.count == (decodedMeta["changeCount"] as? NSNumber)?.intValue)
        #expect(message.changes.reduce(0) { $0 + $1.count } == (decodedMeta["changeBytesTotal"] as? NSNumber)?.intValue)
        var graph = ChangeGraph()
        var state = SyncState()
        let result = try graph.receiveSyncMessage(&state, message)
        #expect(graph.heads.map(\.hex) == Self.hexList(applied["heads"]))
        #expect(graph.count == (applied["changes"] as? NSNumber)?.intValue)
        #expect(result.applied.count == graph.count)
        #expect(graph.missingDeps.count == (applied["missingDeps"] as? NSNumber)?.intValue)
        #expect(graph.queuedCount == 0)
    }

    // MARK: - nodefs/

    struct NodeFSDocument: CustomTestStringConvertible, Sendable {
        let directory: String
        let documentId: String
        let files: [String]
        let heads: [String]
        let changes: Int?
        var testDescription: String { "\(directory)/\(documentId)" }
    }

    /// Walks `data/` and `client-data/` on disk (not the manifest's file lists), so a document
    /// folder the manifest forgot would show up as a failure.
    static let nodefsDocuments: [NodeFSDocument] = {
        guard Fixtures.available, let manifest = try? Fixtures.json("nodefs/manifest.json") else { return [] }
        let fileManager = FileManager.default
        var result: [NodeFSDocument] = []
        for (directory, side) in [("data", "server"), ("client-data", "client")] {
            let documents = ((manifest[side] as? [String: Any])?["documents"] as? [String: Any]) ?? [:]
            let root = Fixtures.url("nodefs/" + directory)
            for prefix in ((try? fileManager.contentsOfDirectory(atPath: root.path)) ?? []).sorted() {
                for rest in ((try? fileManager.contentsOfDirectory(atPath: root.appendingPathComponent(prefix).path)) ?? []).sorted() {
                    let folder = "nodefs/\(directory)/\(prefix)/\(rest)"
                    var files: [String] = []
                    for kind in ["snapshot", "incremental"] {
                        let names = (try? fileManager.contentsOfDirectory(atPath: Fixtures.url(folder + "/" + kind).path)) ?? []
                        files += names.sorted().map { "\(folder)/\(kind)/\($0)" }
                    }
                    // `st/orage-adapter-id` is a file, not a document folder.
                    guard !files.isEmpty else { continue }
                    let entry = documents[prefix + rest] as? [String: Any]
                    result.append(
                        NodeFSDocument(
                            directory: directory,
                            documentId: prefix + rest,
                            files: files,
                            heads: hexList(entry?["heads"]),
                            changes: (entry?["changes"] as? NSNumber)?.intValue
                        )
                    )
                }
            }
        }
        return result
    }()

    @Test func nodefsFoldersFound() {
        #expect(Self.nodefsDocuments.contains { $0.directory == "data" })
        #expect(Self.nodefsDocuments.contains { $0.directory == "client-data" })
        #expect(Self.nodefsDocuments.contains { $0.files.count > 2 }, "a document with incremental files")
    }

    @Test(arguments: nodefsDocuments)
    func nodefsDocumentLoadsInAnyOrder(_ document: NodeFSDocument) throws {
        #expect(!document.heads.isEmpty, "\(document.documentId) is missing from nodefs/manifest.json")
        let contents = try document.files.map { try Fixtures.bytes($0) }
        var orders: [[Int]] = [Array(contents.indices), Array(contents.indices.reversed())]
        var rng = SplitMix64(seed: 0x90d_ef5 &+ UInt64(contents.count))
        for _ in 0..<6 { orders.append(Array(contents.indices).shuffled(using: &rng)) }
        for order in orders {
            let bytes = order.flatMap { contents[$0] }
            let graph = try Self.loadedGraph(bytes)
            #expect(graph.heads.map(\.hex) == document.heads, "\(document.documentId) in order \(order)")
            #expect(graph.count == document.changes)
            #expect(graph.queuedCount == 0)
            // File by file, as a store reading one key at a time would.
            var stepwise = ChangeGraph()
            for index in order { try stepwise.load(contents[index], limits: Self.limits) }
            #expect(stepwise.heads.map(\.hex) == document.heads, "\(document.documentId) file by file in order \(order)")
        }
    }
}
