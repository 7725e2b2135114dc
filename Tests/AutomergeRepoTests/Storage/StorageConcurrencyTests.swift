import AutomergeCore
import Foundation
import Testing

@testable import AutomergeRepo

/// Many tasks saving at once, to different documents and to the same one.
@Suite struct StorageConcurrencyTests {
    @Test func concurrentSavesToDifferentDocuments() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = DocumentStore(storage: try NodeFSStorage(directory: directory.url))
        let expected = try await withThrowingTaskGroup(of: (DocumentId, [ChangeHash], Int).self) { group in
            for index in 0..<8 {
                group.addTask {
                    let id = try documentId(UInt8(index))
                    var builder = DocumentBuilder(actorByte: UInt8(index + 1))
                    for _ in 0..<12 {
                        try builder.addChange(payloadBytes: 120)
                        try await store.saveDocument(id, graph: builder.graph)
                    }
                    try await store.saveSyncState(id, storageId: "peer", bytes: [UInt8(index)])
                    return (id, builder.graph.heads, builder.graph.count)
                }
            }
            var results: [(DocumentId, [ChangeHash], Int)] = []
            for try await result in group { results.append(result) }
            return results
        }
        #expect(expected.count == 8)
        #expect(directory.list(".tmp").isEmpty)
        let fresh = DocumentStore(storage: try NodeFSStorage(directory: directory.url))
        for (id, heads, count) in expected {
            let graph = try #require(try await fresh.loadDocument(id))
            #expect(graph.heads == heads)
            #expect(graph.count == count)
            #expect(try await fresh.loadSyncState(id, storageId: "peer")?.count == 1)
        }
    }

    /// Incrementals, whole-document saves of older and newer graphs and compactions race on one document;
    /// nothing is lost and nothing fails.
    @Test func concurrentSavesToTheSameDocument() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = DocumentStore(storage: try NodeFSStorage(directory: directory.url))
        let id = try documentId(42)
        var builder = DocumentBuilder()
        var chunks: [ChangeChunk] = []
        var graphs: [ChangeGraph] = []
        for _ in 0..<40 {
            chunks.append(try builder.addChange(payloadBytes: 100))
            graphs.append(builder.graph)
        }
        let final = builder.graph
        let allChunks = chunks
        let allGraphs = graphs
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                group.addTask { try await store.saveIncremental(id, chunks: [allChunks[index]]) }
                group.addTask { try await store.saveDocument(id, graph: allGraphs[(index * 17) % 40]) }
                if index % 10 == 0 { group.addTask { try await store.compact(id, graph: final, force: true) } }
            }
            try await group.waitForAll()
        }
        try await store.saveDocument(id, graph: final)
        #expect(directory.list(".tmp").isEmpty)
        let loaded = try #require(try await DocumentStore(storage: try NodeFSStorage(directory: directory.url)).loadDocument(id))
        #expect(loaded.heads == final.heads)
        #expect(loaded.count == 40)
        #expect(loaded.queuedCount == 0)
    }
}
