import AutomergeCore
import Foundation
import Testing

@testable import AutomergeRepo

/// The JS `StorageSubsystem` behaviour for documents (docs/storage.md §3, §4).
@Suite struct DocumentStoreTests {
    private func keys(_ storage: InMemoryStorage, _ id: DocumentId, _ kind: StorageChunkKind) async -> [String] {
        await storage.keys.compactMap { key in
            guard let chunk = key.documentChunk, chunk.documentId == id, chunk.kind == kind else { return nil }
            return chunk.name
        }
    }

    @Test func nothingStoredLoadsAsNil() async throws {
        let store = DocumentStore(storage: InMemoryStorage())
        #expect(try await store.loadDocument(try documentId(1)) == nil)
    }

    private func allChunks(_ graph: ChangeGraph) -> [ChangeChunk] { graph.allHashes.compactMap { graph.chunk(for: $0) } }

    /// The one write policy: an incremental file, durable on return; then, the snapshot being under
    /// 1 KiB, a background compaction into `snapshot/<heads>` holding what the reference's save() writes.
    @Test func firstSaveIsCompactedIntoASnapshotNamedByTheHeads() async throws {
        let storage = InMemoryStorage()
        let gate = CompactionGate()
        let store = DocumentStore(storage: storage, gate: gate)
        let id = try documentId(1)
        var builder = DocumentBuilder()
        for _ in 0..<3 { try builder.addChange() }
        // Holding the gate keeps the compaction waiting: the incremental is there first.
        await gate.acquire()
        try await store.save(id, chunks: allChunks(builder.graph))
        let bytes = allChunks(builder.graph).flatMap(\.bytes)
        #expect(await keys(storage, id, .incremental) == [NodeFSKeyHash.incrementalName(for: bytes)])
        await gate.release()
        await store.waitForCompactions()
        #expect(await keys(storage, id, .snapshot) == [NodeFSKeyHash.snapshotName(heads: builder.graph.heads)])
        #expect(await keys(storage, id, .incremental).isEmpty)
        let snapshot = try #require(
            try await storage.load(try StorageKey.chunk(id, .snapshot, name: NodeFSKeyHash.snapshotName(heads: builder.graph.heads)))
        )
        #expect(snapshot == (try builder.graph.saveDocument()))
        #expect(snapshot[8] == 0)
        // Nothing new: nothing written.
        try await store.save(id, chunks: [])
        #expect(await storage.keys.count == 1)
    }

    /// A small document (snapshot < 1 KiB) is re-snapshotted after every save and the old snapshot deleted.
    @Test func smallDocumentIsCompactedAfterEverySave() async throws {
        let storage = InMemoryStorage()
        let store = DocumentStore(storage: storage, gate: CompactionGate())
        let id = try documentId(2)
        var builder = DocumentBuilder()
        for round in 1...4 {
            let chunk = try builder.addChange()
            try await store.save(id, chunks: [chunk])
            await store.waitForCompactions()
            #expect(await keys(storage, id, .snapshot) == [NodeFSKeyHash.snapshotName(heads: builder.graph.heads)], "round \(round)")
            #expect(await keys(storage, id, .incremental).isEmpty)
        }
        let loaded = try #require(try await DocumentStore(storage: storage).loadDocument(id))
        #expect(loaded.heads == builder.graph.heads)
        #expect(loaded.count == 4)
    }

    /// A large document collects incrementals until they add up to the snapshot size, then compacts.
    @Test func largeDocumentCollectsIncrementalsThenCompacts() async throws {
        let storage = InMemoryStorage()
        let store = DocumentStore(storage: storage, gate: CompactionGate())
        let id = try documentId(3)
        var builder = DocumentBuilder()
        for _ in 0..<8 { try builder.addChange(payloadBytes: 200) }
        try await store.save(id, chunks: allChunks(builder.graph))
        await store.waitForCompactions()
        let firstSnapshot = try #require(await keys(storage, id, .snapshot).first)
        let snapshotSize = try #require(try await storage.load(try StorageKey.chunk(id, .snapshot, name: firstSnapshot))).count
        #expect(snapshotSize >= DocumentStore.smallSnapshotBytes)

        var incrementalTotal = 0
        var saves = 0
        while incrementalTotal + 300 < snapshotSize {
            let chunk = try builder.addChange(payloadBytes: 200)
            try await store.save(id, chunks: [chunk])
            await store.waitForCompactions()
            saves += 1
            incrementalTotal += chunk.bytes.count
            // One file per save, named by the SHA-256 of exactly its bytes.
            let name = NodeFSKeyHash.incrementalName(for: chunk.bytes)
            #expect(await keys(storage, id, .incremental).contains(name))
            #expect(await keys(storage, id, .incremental).count == saves)
            #expect(await keys(storage, id, .snapshot) == [firstSnapshot])
        }
        #expect(await !store.shouldCompact(id))
        while await !store.shouldCompact(id) {
            try await store.save(id, chunks: [try builder.addChange(payloadBytes: 200)])
        }
        await store.waitForCompactions()
        #expect(await keys(storage, id, .snapshot) == [NodeFSKeyHash.snapshotName(heads: builder.graph.heads)])
        #expect(await keys(storage, id, .incremental).isEmpty)
        #expect(await !store.shouldCompact(id))

        let loaded = try #require(try await DocumentStore(storage: storage).loadDocument(id))
        #expect(loaded.heads == builder.graph.heads)
        #expect(loaded.count == builder.graph.count)
    }

    /// A received whole document is stored as the snapshot byte for byte, named by its heads, and is
    /// not compacted again (its size sets the JS rule's threshold).
    @Test func receivedWholeDocumentIsStoredUnchanged() async throws {
        let storage = InMemoryStorage()
        let store = DocumentStore(storage: storage, gate: CompactionGate())
        let id = try documentId(4)
        var builder = DocumentBuilder()
        for _ in 0..<12 { try builder.addChange(payloadBytes: 200) }
        let document = try builder.graph.saveDocument()
        try await store.saveReceived(id, bytes: document, isWholeDocument: true, heads: builder.graph.heads)
        await store.waitForCompactions()
        let key = try StorageKey.chunk(id, .snapshot, name: NodeFSKeyHash.snapshotName(heads: builder.graph.heads))
        #expect(await storage.keys == [key])
        #expect(try await storage.load(key) == document)
        #expect(try await store.storedDocument(id) == document)
    }

    /// A graph whose changes are well formed but whose ops do not apply (an op on an object that
    /// does not exist) cannot be written as a document: its snapshot is its change chunks, so no
    /// change is lost and it still loads.
    @Test func compactionKeepsChangesThatDoNotFormADocument() async throws {
        let storage = InMemoryStorage()
        let store = DocumentStore(storage: storage, gate: CompactionGate())
        let id = try documentId(6)
        let actor = ActorId([UInt8](repeating: 9, count: 16))
        let orphanOp = Op(object: .op(OpId(counter: 77, actor: 0)), key: .map("x"), action: .put, value: .int(1))
        let chunk = Change(deps: [], actor: actor, seq: 1, startOp: 1, time: 0, ops: [orphanOp]).encodeChunk()
        var graph = ChangeGraph()
        try graph.add(chunk)
        #expect(throws: AutomergeError.self) { try graph.saveDocument() }
        try await store.save(id, chunks: [chunk])
        await store.waitForCompactions()
        let name = try #require(await keys(storage, id, .snapshot).first)
        #expect(try await storage.load(try StorageKey.chunk(id, .snapshot, name: name)) == chunk.bytes)
        #expect(try await DocumentStore(storage: storage).loadDocument(id)?.heads == graph.heads)
    }

    /// Compaction works from the files, not from a caller's graph: it can never roll back stored
    /// heads, whoever asks for it and whatever they hold in memory.
    @Test func compactionKeepsEveryStoredChange() async throws {
        let storage = InMemoryStorage()
        let store = DocumentStore(storage: storage, gate: CompactionGate())
        let id = try documentId(5)
        var builder = DocumentBuilder()
        try await store.save(id, chunks: [try builder.addChange()])
        await store.waitForCompactions()
        try await store.save(id, chunks: [try builder.addChange()])
        try await store.save(id, chunks: [try builder.addChange()])
        #expect(try await store.compact(id))
        await store.waitForCompactions()
        #expect(await storage.keys.count == 1)
        #expect(try await DocumentStore(storage: storage).loadDocument(id)?.heads == builder.graph.heads)
    }

    /// Unknown names and corrupt files under `snapshot/`/`incremental/` do not stop a document loading.
    @Test func strayAndCorruptChunksAreSkipped() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let storage = try NodeFSStorage(directory: directory.url)
        let store = DocumentStore(storage: storage, gate: CompactionGate())
        let id = try documentId(6)
        var builder = DocumentBuilder()
        for _ in 0..<3 { try builder.addChange() }
        try await store.save(id, chunks: allChunks(builder.graph))
        await store.waitForCompactions()
        let folder = StorageKey.prefix(id).relativePath
        try directory.write("\(folder)/snapshot/.DS_Store", [0, 1, 2])
        try directory.write("\(folder)/incremental/backup~", [0, 1, 2])
        try directory.write("\(folder)/incremental/\(String(repeating: "a", count: 63)).tmp", [9])
        let torn = String(repeating: "b", count: 64)
        let next = try builder.addChange()
        try directory.write("\(folder)/incremental/\(torn)", Array(next.bytes.prefix(next.bytes.count - 3)))

        let fresh = DocumentStore(storage: storage, gate: CompactionGate())
        let loaded = try #require(try await fresh.load(id))
        #expect(loaded.graph.count == 3)
        #expect(!loaded.isUnavailable)
        #expect(loaded.unreadableChunks == [try StorageKey.chunk(id, .incremental, name: torn)])
        #expect(await fresh.unreadableChunks(id) == [try StorageKey.chunk(id, .incremental, name: torn)])
        // What a fresh peer is sent leaves the torn file out.
        let served = try #require(try await fresh.storedDocument(id))
        var check = ChangeGraph()
        try check.load(served)
        #expect(check.heads == loaded.graph.heads)
        // Compaction keeps the unreadable file for inspection.
        try await fresh.compact(id)
        #expect(directory.exists("\(folder)/incremental/\(torn)"))
    }

    /// Files exist but none is readable: the document is unavailable, not empty.
    @Test func documentWithNothingReadableIsUnavailable() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let storage = try NodeFSStorage(directory: directory.url)
        let id = try documentId(10)
        let folder = StorageKey.prefix(id).relativePath
        try directory.write("\(folder)/snapshot/\(String(repeating: "c", count: 64))", [0x85, 0x6f, 0x4a, 0x83, 1, 2])
        let store = DocumentStore(storage: storage, gate: CompactionGate())
        let loaded = try #require(try await store.load(id))
        #expect(loaded.isUnavailable)
        #expect(loaded.graph.count == 0)
        #expect(loaded.unreadableChunks.count == 1)
        #expect(try await store.storedDocument(id) == nil)
        await #expect(throws: StorageError.self) { try await store.loadDocument(id) }
    }

    @Test func syncStatesRoundTripPerRemoteStorageId() async throws {
        let store = DocumentStore(storage: InMemoryStorage())
        let id = try documentId(7)
        #expect(try await store.loadSyncState(id, storageId: "b4a8ca67-dfc4-426a-b126-3bb587772491") == nil)
        try await store.saveSyncState(id, storageId: "b4a8ca67-dfc4-426a-b126-3bb587772491", bytes: [0x43, 1])
        try await store.saveSyncState(id, storageId: "other", bytes: [0x43, 0])
        #expect(try await store.loadSyncState(id, storageId: "b4a8ca67-dfc4-426a-b126-3bb587772491") == [0x43, 1])
        #expect(try await store.loadSyncState(id, storageId: "other") == [0x43, 0])
        // A remote storage id comes from the network: it must stay one path component.
        for bad in ["../../etc", "a/b", "", "..", "x\u{0}y"] {
            await #expect(throws: StorageError.self) { try await store.saveSyncState(id, storageId: bad, bytes: [1]) }
        }
    }

    @Test func removeDocumentDeletesAllItsChunks() async throws {
        let storage = InMemoryStorage()
        let store = DocumentStore(storage: storage)
        let id = try documentId(8)
        let other = try documentId(9)
        var builder = DocumentBuilder()
        try builder.addChange()
        try await store.save(id, chunks: allChunks(builder.graph))
        try await store.save(other, chunks: allChunks(builder.graph))
        await store.waitForCompactions()
        try await store.saveSyncState(id, storageId: "peer", bytes: [1])
        try await store.removeDocument(id)
        #expect(try await store.loadDocument(id) == nil)
        #expect(try await store.loadSyncState(id, storageId: "peer") == nil)
        #expect(try await store.loadDocument(other)?.heads == builder.graph.heads)
    }
}
