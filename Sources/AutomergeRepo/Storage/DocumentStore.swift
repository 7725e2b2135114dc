import AutomergeCore

/// What the JS `StorageSubsystem` does for documents (spec §5.3, §5.4), over any `StorageAdapter`.
///
/// Per document it keeps the same bookkeeping as JS: the chunks found at load plus those written since,
/// with their sizes, which drive the compaction rule and say which files a compaction replaces. Operations
/// on one document run one at a time (the actor would otherwise interleave them at every `await`);
/// different documents proceed concurrently. A change counts as stored once the call that wrote it has
/// returned.
public actor DocumentStore {
    /// JS compacts while the snapshot is smaller than this (`#shouldCompact`).
    public static let smallSnapshotBytes = 1024

    private struct StoredChunk {
        var kind: StorageChunkKind
        var size: Int
    }

    private struct Record {
        var chunks: [StorageKey: StoredChunk] = [:]
        /// Heads at the last load or save; nil when nothing was loaded or saved as a whole document.
        var lastSavedHeads: [ChangeHash]?
        /// Hashes whose changes (with their ancestors) are stored: a compaction must keep all of them.
        var covered: Set<ChangeHash> = []
        /// Stored changes whose dependencies are missing are not in the graph; deleting the files holding
        /// them would lose them, so compaction then keeps the old files.
        var hasUnappliedChanges = false

        func total(_ kind: StorageChunkKind) -> Int { chunks.values.filter { $0.kind == kind }.reduce(0) { $0 + $1.size } }
    }

    public let storage: any StorageAdapter
    private var records: [DocumentId: Record] = [:]
    private var busy: Set<DocumentId> = []
    private var waiters: [DocumentId: [CheckedContinuation<Void, Never>]] = [:]

    public init(storage: any StorageAdapter) {
        self.storage = storage
    }

    // MARK: Loading

    /// Loads every snapshot, then every incremental chunk, as one concatenation (spec §5.4); nil when the
    /// document has no chunks. Files under `snapshot/` and `incremental/` whose names are not 64 lowercase
    /// hex digits (editor backups, `.DS_Store`, foreign temp files) are ignored.
    ///
    /// If the concatenation does not load (e.g. a file truncated by a JS server crash: NodeFS writes in
    /// place), the files are loaded one by one and the unreadable ones skipped; they stay on disk, are
    /// never deleted by compaction, and are listed by `unreadableChunks`. Only if none loads is it an error.
    public func loadDocument(_ id: DocumentId) async throws(StorageError) -> ChangeGraph? {
        await acquire(id)
        defer { release(id) }
        var chunks: [(StorageKey, StorageChunkKind, [UInt8])] = []
        for kind in [StorageChunkKind.snapshot, .incremental] {
            for (key, bytes) in try await storage.loadRange(.prefix(id, kind)) {
                guard let chunk = key.documentChunk, chunk.documentId == id, chunk.kind == kind,
                    NodeFSKeyHash.isHashName(chunk.name)
                else { continue }
                chunks.append((key, kind, bytes))
            }
        }
        guard !chunks.isEmpty else {
            records[id] = Record()
            unreadable[id] = nil
            return nil
        }
        var graph = ChangeGraph()
        var loaded = chunks
        var skipped: [StorageKey] = []
        do throws(AutomergeError) {
            // Our own storage (or the JS server's) is trusted input: header checks only, as `ChangeValidation` advises.
            try graph.load(chunks.flatMap(\.2), validation: .metadata)
        } catch {
            graph = ChangeGraph()
            loaded = []
            var lastError = error
            for chunk in chunks {
                do throws(AutomergeError) {
                    try graph.load(chunk.2, validation: .metadata)
                    loaded.append(chunk)
                } catch {
                    skipped.append(chunk.0)
                    lastError = error
                }
            }
            if loaded.isEmpty { throw .corruptDocument(documentId: id.string, detail: "\(lastError)") }
        }
        var record = Record(lastSavedHeads: graph.heads, covered: Set(graph.heads), hasUnappliedChanges: graph.queuedCount > 0)
        for (key, kind, bytes) in loaded { record.chunks[key] = StoredChunk(kind: kind, size: bytes.count) }
        records[id] = record
        unreadable[id] = skipped.isEmpty ? nil : skipped
        return graph
    }

    private var unreadable: [DocumentId: [StorageKey]] = [:]

    /// Chunk files the last `loadDocument` could not read.
    public func unreadableChunks(_ id: DocumentId) -> [StorageKey] { unreadable[id] ?? [] }

    // MARK: Saving

    /// What JS does on every heads change: nothing if the heads are those last saved or loaded; a
    /// compaction when `shouldCompact`; otherwise the changes since the last saved heads as one incremental.
    ///
    /// A graph older than what is stored (saves racing each other) is never compacted, which would delete
    /// newer changes: its changes since the last saved heads go to an incremental (duplicates are harmless)
    /// and the last saved heads stay where they were.
    public func saveDocument(_ id: DocumentId, graph: ChangeGraph) async throws(StorageError) {
        await acquire(id)
        defer { release(id) }
        let record = records[id] ?? Record()
        if let last = record.lastSavedHeads, last == graph.heads { return }
        let isStale = record.covered.contains { !graph.contains($0) }
        if !isStale && Self.shouldCompact(record) {
            try await compactLocked(id, graph: graph)
            return
        }
        var chunks: [ChangeChunk] = []
        for hash in graph.changes(notAncestorsOf: record.lastSavedHeads ?? []) {
            guard let chunk = graph.chunk(for: hash) else { throw .graphWithoutChangeBytes(documentId: id.string) }
            chunks.append(chunk)
        }
        try await saveIncrementalLocked(id, chunks: chunks)
        if !isStale { records[id, default: Record()].lastSavedHeads = graph.heads }
    }

    /// Writes the chunks as one `incremental/<sha256 of the bytes>` file (the concatenated raw chunks).
    public func saveIncremental(_ id: DocumentId, chunks: [ChangeChunk]) async throws(StorageError) {
        await acquire(id)
        defer { release(id) }
        try await saveIncrementalLocked(id, chunks: chunks)
    }

    private func saveIncrementalLocked(_ id: DocumentId, chunks: [ChangeChunk]) async throws(StorageError) {
        guard !chunks.isEmpty else { return }
        let bytes = chunks.flatMap(\.bytes)
        let key = try Self.key(id, .incremental, NodeFSKeyHash.incrementalName(for: bytes))
        try await storage.save(key, bytes)
        var record = records[id] ?? Record()
        record.chunks[key] = StoredChunk(kind: .incremental, size: bytes.count)
        record.covered.formUnion(chunks.map(\.hash))
        records[id] = record
    }

    /// JS `#shouldCompact`: snapshot total < 1 KiB, or incremental total ≥ snapshot total.
    public func shouldCompact(_ id: DocumentId) -> Bool { Self.shouldCompact(records[id] ?? Record()) }

    private static func shouldCompact(_ record: Record) -> Bool {
        let snapshots = record.total(.snapshot)
        return snapshots < smallSnapshotBytes || record.total(.incremental) >= snapshots
    }

    /// Compacts when the JS rule says so (always with `force`); returns whether it did.
    ///
    /// Writes `snapshot/<snapshotName(heads)>` first and only once it is durable deletes the snapshot and
    /// incremental files it replaces (never the one just written), so a crash in between leaves harmless
    /// duplicates. The snapshot is what the reference's `save()` writes: one compressed document chunk
    /// (plus any queued orphan changes), checked by loading it back before anything is deleted. A graph
    /// that cannot be written as a document (changes whose ops do not apply) is stored as its change
    /// chunks instead, which loads just as well. Refuses a graph that lacks stored changes.
    @discardableResult
    public func compact(_ id: DocumentId, graph: ChangeGraph, force: Bool = false) async throws(StorageError) -> Bool {
        await acquire(id)
        defer { release(id) }
        guard force || Self.shouldCompact(records[id] ?? Record()) else { return false }
        return try await compactLocked(id, graph: graph)
    }

    @discardableResult
    private func compactLocked(_ id: DocumentId, graph: ChangeGraph) async throws(StorageError) -> Bool {
        guard graph.count > 0 else { return false }
        var record = records[id] ?? Record()
        let missing = record.covered.filter { !graph.contains($0) }.count
        guard missing == 0 else { throw .compactionWouldLoseChanges(documentId: id.string, missing: missing) }
        guard graph.retainsChanges else { throw .graphWithoutChangeBytes(documentId: id.string) }
        // Replaying a large document takes a while: off the actor, so other documents keep saving
        // (this one is held by `acquire`).
        let bytes = await Task.detached { Self.snapshotBytes(graph) }.value
        let heads = graph.heads
        let key = try Self.key(id, .snapshot, NodeFSKeyHash.snapshotName(heads: heads))
        try await storage.save(key, bytes)
        // Durable from here on: the record must say so even if a deletion below fails.
        record.chunks[key] = StoredChunk(kind: .snapshot, size: bytes.count)
        record.covered = Set(heads)
        record.lastSavedHeads = heads
        records[id] = record
        guard !record.hasUnappliedChanges else { return true }
        for old in record.chunks.keys.sorted(by: { $0.relativePath < $1.relativePath }) where old != key {
            // A failed deletion only leaves a duplicate; it stays recorded and is retried next time.
            do throws(StorageError) {
                try await storage.remove(old)
                record.chunks[old] = nil
            } catch {
                break
            }
        }
        records[id] = record
        return true
    }

    /// The snapshot of a graph: its saved document when that loads back to the same changes,
    /// otherwise every change chunk in topological order.
    static func snapshotBytes(_ graph: ChangeGraph) -> [UInt8] {
        if let document = try? graph.saveDocument() {
            var check = ChangeGraph(retainingChanges: false)
            if (try? check.load(document)) != nil, check.heads == graph.heads, check.count == graph.count,
                check.queuedCount == graph.queuedCount
            {
                return document
            }
        }
        var bytes: [UInt8] = []
        for hash in graph.allHashes { bytes.append(contentsOf: graph.chunk(for: hash)?.bytes ?? []) }
        for orphan in graph.orphanChunks { bytes.append(contentsOf: orphan.bytes) }
        return bytes
    }

    /// Deletes the document's snapshots, incrementals and sync states, as JS `removeDoc` does.
    public func removeDocument(_ id: DocumentId) async throws(StorageError) {
        await acquire(id)
        defer { release(id) }
        for kind in StorageChunkKind.allCases { try await storage.removeRange(.prefix(id, kind)) }
        records[id] = Record()
        unreadable[id] = nil
    }

    // MARK: Sync state

    /// The encoded sync state saved for a remote peer's storage id (validated as a file name).
    public func loadSyncState(_ id: DocumentId, storageId: String) async throws(StorageError) -> [UInt8]? {
        try await storage.load(Self.key(id, .syncState, storageId))
    }

    public func saveSyncState(_ id: DocumentId, storageId: String, bytes: [UInt8]) async throws(StorageError) {
        try await storage.save(Self.key(id, .syncState, storageId), bytes)
    }

    // MARK: Helpers

    private static func key(_ id: DocumentId, _ kind: StorageChunkKind, _ name: String) throws(StorageError) -> StorageKey {
        do throws(StorageKeyError) {
            return try StorageKey.chunk(id, kind, name: name)
        } catch {
            throw .invalidKey(error)
        }
    }

    /// Waits until no other operation on `id` is running; ownership passes directly to the next waiter.
    private func acquire(_ id: DocumentId) async {
        if busy.insert(id).inserted { return }
        await withCheckedContinuation { waiters[id, default: []].append($0) }
    }

    private func release(_ id: DocumentId) {
        if var queue = waiters[id], !queue.isEmpty {
            let next = queue.removeFirst()
            waiters[id] = queue.isEmpty ? nil : queue
            next.resume()
        } else {
            busy.remove(id)
        }
    }
}
