import AutomergeCore
import Foundation
import TestSupport
import Testing

@testable import AutomergeRepo

/// The data directories written by the JS reference server and a JS client, opened with `NodeFSStorage`
/// and `DocumentStore` (on a writable copy; the fixture is read-only).
@Suite(.enabled(if: Fixtures.nodefsAvailable, Fixtures.skipMessage))
struct NodeFSDataDirectoryTests {
    private struct Expected {
        let directory: String
        let storageId: String
        let documents: [(id: String, heads: [String], changes: Int, incrementals: Int, syncStates: [(storageId: String, sharedHeads: [String])])]
    }

    private func strings(_ value: JSONValue?) -> [String] {
        guard case .array(let items)? = value else { return [] }
        return items.compactMap { item in
            if case .string(let text) = item { return text }
            return nil
        }
    }

    private func expectations() throws -> [Expected] {
        let text = try String(contentsOf: Fixtures.nodefs.appendingPathComponent("manifest.json"), encoding: .utf8)
        let manifest = try JSONValue.parse(text)
        return try ["server", "client"].map { side in
            guard case .string(let directory)? = manifest[side]?["directory"], case .string(let storageId)? = manifest[side]?["storageAdapterId"],
                case .object(let documents)? = manifest[side]?["documents"]
            else { throw FixtureError.malformed("manifest \(side)") }
            return Expected(
                directory: directory,
                storageId: storageId,
                documents: try documents.map { id, document in
                    guard case .number(let changes)? = document["changes"], let count = Int(changes),
                        case .array(let syncStates)? = document["syncStates"]
                    else { throw FixtureError.malformed("document \(id)") }
                    return (
                        id, strings(document["heads"]), count, strings(document["incrementals"]).count,
                        try syncStates.map { state in
                            guard case .string(let peer)? = state["storageId"] else { throw FixtureError.malformed("sync state of \(id)") }
                            return (peer, strings(state["sharedHeads"]))
                        }
                    )
                }
            )
        }
    }

    @Test func documentsSyncStatesAndStorageIdLoad() async throws {
        var documentsChecked = 0
        var syncStatesChecked = 0
        for side in try expectations() {
            let copy = try TemporaryDirectory.copy(of: Fixtures.nodefs.appendingPathComponent(side.directory, isDirectory: true))
            defer { copy.remove() }
            let storage = try NodeFSStorage(directory: copy.url)
            #expect(try await storage.storageId() == side.storageId)
            let store = DocumentStore(storage: storage)
            for document in side.documents {
                let id = try DocumentId(document.id)
                let graph = try #require(try await store.loadDocument(id), "\(document.id)")
                #expect(graph.heads.map(\.hex) == document.heads, "\(document.id)")
                #expect(graph.count == document.changes, "\(document.id)")
                #expect(graph.queuedCount == 0)
                #expect(await store.unreadableChunks(id).isEmpty)
                documentsChecked += 1
                for expected in document.syncStates {
                    let bytes = try #require(try await store.loadSyncState(id, storageId: expected.storageId))
                    #expect(try SyncState(decoding: bytes).sharedHeads.map(\.hex) == expected.sharedHeads)
                    syncStatesChecked += 1
                }
            }
            // Reading changed nothing on disk (apart from the empty temp folder).
            #expect(copy.allFiles().count == side.documents.reduce(1) { $0 + 1 + $1.incrementals + $1.syncStates.count })
        }
        #expect(documentsChecked == 5)
        #expect(syncStatesChecked == 4)
    }

    /// The server's large document (a snapshot plus 15 incrementals) compacts into one snapshot that loads
    /// to the same heads, and the files it replaces are gone; the sync states are untouched.
    @Test func compactingTheJSDirectoryKeepsEveryChange() async throws {
        guard let server = try expectations().first else { return }
        let copy = try TemporaryDirectory.copy(of: Fixtures.nodefs.appendingPathComponent(server.directory, isDirectory: true))
        defer { copy.remove() }
        let storage = try NodeFSStorage(directory: copy.url)
        let store = DocumentStore(storage: storage)
        let large = try #require(server.documents.first { $0.incrementals > 0 })
        let id = try DocumentId(large.id)
        let graph = try #require(try await store.loadDocument(id))
        // 15 × 147 B of incrementals < the 4292 B snapshot: JS would not compact yet, and neither do we.
        #expect(await !store.shouldCompact(id))
        #expect(try await store.compact(id))

        let folder = StorageKey.prefix(id).relativePath
        #expect(copy.list("\(folder)/incremental").isEmpty)
        #expect(copy.list("\(folder)/snapshot") == [NodeFSKeyHash.snapshotName(heads: graph.heads)])
        let reloaded = try #require(try await DocumentStore(storage: try NodeFSStorage(directory: copy.url)).loadDocument(id))
        #expect(reloaded.heads.map(\.hex) == large.heads)
        #expect(reloaded.count == large.changes)
        #expect(Set(reloaded.allHashes) == Set(graph.allHashes))
    }
}
