import AutomergeCore
import Foundation
import TestSupport
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
                        try await store.save(id, chunks: [try builder.addChange(payloadBytes: 120)])
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
        await store.waitForCompactions()
        #expect(directory.list(".tmp").isEmpty)
        let fresh = DocumentStore(storage: try NodeFSStorage(directory: directory.url))
        for (id, heads, count) in expected {
            let graph = try #require(try await fresh.loadDocument(id))
            #expect(graph.heads == heads)
            #expect(graph.count == count)
            #expect(try await fresh.loadSyncState(id, storageId: "peer")?.count == 1)
        }
    }

    /// Saves of single changes, in any order, race with compactions of the same document (queued by the
    /// saves and asked for directly); nothing is lost, nothing fails, and compactions never overlap.
    @Test func concurrentSavesAndCompactionsOfTheSameDocument() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let gate = CompactionGate()
        let store = DocumentStore(storage: try NodeFSStorage(directory: directory.url), gate: gate)
        let id = try documentId(42)
        var builder = DocumentBuilder()
        var chunks: [ChangeChunk] = []
        for _ in 0..<40 { chunks.append(try builder.addChange(payloadBytes: 100)) }
        let final = builder.graph
        let allChunks = chunks
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                group.addTask { try await store.save(id, chunks: [allChunks[(index * 17) % 40]]) }
                if index % 10 == 0 { group.addTask { try await store.compact(id) } }
            }
            try await group.waitForAll()
        }
        await store.waitForCompactions()
        try await store.compact(id)
        #expect(await gate.peakConcurrency == 1)
        #expect(directory.list(".tmp").isEmpty)
        let folder = StorageKey.prefix(id).relativePath
        #expect(directory.list("\(folder)/incremental").isEmpty)
        let loaded = try #require(try await DocumentStore(storage: try NodeFSStorage(directory: directory.url)).loadDocument(id))
        #expect(loaded.heads == final.heads)
        #expect(loaded.count == 40)
        #expect(loaded.queuedCount == 0)
    }
}
