package import AutomergeCore
package import Logging

/// The one write policy for documents, over any `StorageAdapter`, in the layout of the JS
/// `StorageSubsystem` (docs/storage.md §3, §4), with its compaction rule or the server's batched one
/// (`CompactionPolicy`).
///
/// - `save` writes the new changes as one incremental file, durable on return: that is the only write on
///   a peer's path (it joins a group-commit round when the adapter has them, and may share its file
///   with other changes to the document made durable in the same round). When the policy
///   (`shouldCompact`) then holds, a compaction is queued in the background; nobody waits for it.
/// - `compact` rebuilds the snapshot from the files on disk (not from anyone's in-memory graph), writes
///   it, checks it, and only then deletes exactly the files it was built from. Files written meanwhile
///   stay. At most one compaction runs at a time in the process (`CompactionGate`), and everything it
///   built is released when it ends.
///
/// There is no per-document lock here: the repo serialises each document's sync path
/// (`DocumentSynchronizer`), appends never conflict (each is a new file named by its bytes), and a load
/// never misses a change a compaction moved: it lists the incrementals before the snapshots, and a
/// compaction's snapshot is durable before it deletes anything.
package actor DocumentStore {
    /// JS compacts while the snapshot is smaller than this (`#shouldCompact`).
    package static let smallSnapshotBytes = 1024

    private struct Record {
        var snapshots: [StorageKey: Int] = [:]
        var incrementals: [StorageKey: Int] = [:]

        func shouldCompact(_ policy: CompactionPolicy) -> Bool {
            policy.isDue(
                snapshotBytes: snapshots.values.reduce(0, +),
                incrementalFiles: incrementals.count,
                incrementalBytes: incrementals.values.reduce(0, +)
            )
        }

        mutating func add(_ file: StoredFile) {
            if file.kind == .snapshot { snapshots[file.key] = file.bytes.count } else { incrementals[file.key] = file.bytes.count }
        }

        mutating func remove(_ key: StorageKey) {
            snapshots[key] = nil
            incrementals[key] = nil
        }
    }

    package let storage: any StorageAdapter
    private let gate: CompactionGate
    private var records: [DocumentId: Record] = [:]
    private var unreadable: [DocumentId: [StorageKey]] = [:]
    private var queuedCompactions: Set<DocumentId> = []
    private var running: [Task<Void, Never>] = []
    private var compactionFailures: [DocumentId: StorageError] = [:]
    /// Documents the last `storedDocumentAndHeads` found no chunk of: the load that follows at once
    /// (the repo's, when that answer is nil) need not list the folders again. Used once; a save drops it.
    private var listedEmpty: Set<DocumentId> = []

    private let logger: Logger

    /// How long a compaction waits once due, so that the saves meanwhile share it (none by default).
    private let compactionDelay: Duration
    /// When a document is due for compaction (the reference's rule by default).
    package let compactionPolicy: CompactionPolicy

    /// - Parameters:
    ///   - gate: what limits compactions to one at a time (the process-wide gate by default).
    ///   - compactionDelay: how long a due compaction waits before it starts. A document being
    ///     written to is then compacted once per delay rather than after every save (a small
    ///     document is due after each one), which is most of the server's work under load.
    ///   - compactionPolicy: when a document is due (`reference`, the JS rule, by default).
    package init(
        storage: any StorageAdapter,
        gate: CompactionGate = .shared,
        compactionDelay: Duration = .zero,
        compactionPolicy: CompactionPolicy = .reference,
        logger: Logger = Logger(label: "automerge-repo.storage")
    ) {
        self.storage = storage
        self.gate = gate
        self.compactionDelay = compactionDelay
        self.compactionPolicy = compactionPolicy
        self.logger = logger
    }

    // MARK: Loading

    /// Every snapshot, then every incremental chunk, as one concatenation (docs/storage.md §4); nil when the
    /// document has no chunks. See `load(_:)` for what happens to unreadable files.
    package func loadDocument(_ id: DocumentId) async throws(StorageError) -> ChangeGraph? {
        guard let loaded = try await load(id) else { return nil }
        guard !loaded.isUnavailable else {
            throw .corruptDocument(documentId: id.string, detail: "no stored chunk could be read")
        }
        return loaded.graph
    }

    /// Loads a document. Files under `snapshot/` and `incremental/` whose names are not 64 lowercase hex
    /// digits (editor backups, `.DS_Store`, foreign temp files) are ignored.
    ///
    /// If the concatenation does not load (e.g. a file truncated by a JS server crash: NodeFS writes in
    /// place), the files are loaded one by one and the unreadable ones skipped and reported; they stay
    /// on disk and are never deleted by compaction. When none loads the result is empty and unavailable.
    package func load(_ id: DocumentId) async throws(StorageError) -> LoadedDocument? {
        let files = listedEmpty.remove(id) != nil ? [] : try await storedFiles(id)
        guard !files.isEmpty else {
            records[id] = Record()
            unreadable[id] = nil
            return nil
        }
        // The changes inside the snapshot keep no bytes in memory: they are rebuilt from it on demand.
        // Our own storage (or the JS server's) is trusted input: header checks only, as `ChangeValidation` advises.
        let outcome = StoredChunkLoader.load(files.map(\.bytes), validation: .metadata) {
            ChangeGraph(retainingDocumentChanges: false)
        }
        let graph = outcome.graph
        let loaded = outcome.loaded.map { files[$0] }
        let skipped = outcome.skipped.map { files[$0].key }
        var record = Record()
        for file in loaded { record.add(file) }
        records[id] = record
        unreadable[id] = skipped.isEmpty ? nil : skipped
        return LoadedDocument(graph: graph, unreadableChunks: skipped, isUnavailable: loaded.isEmpty)
    }

    /// Chunk files the last load of the document could not read.
    package func unreadableChunks(_ id: DocumentId) -> [StorageKey] { unreadable[id] ?? [] }

    /// The stored chunks as they are, for a peer that needs the whole document (docs/sync-protocol.md §1: a V2 entry may
    /// be a document chunk followed by change chunks): the snapshots first, then the incrementals.
    /// Files the last load could not read, or whose chunk checksums fail, are left out. Nil when nothing
    /// usable is stored.
    package func storedDocument(_ id: DocumentId) async throws(StorageError) -> [UInt8]? {
        let skip = Set(unreadable[id] ?? [])
        var bytes: [UInt8] = []
        for file in try await storedFiles(id) where !skip.contains(file.key) && Self.chunksAreIntact(file.bytes) {
            bytes.append(contentsOf: file.bytes)
        }
        return bytes.isEmpty ? nil : bytes
    }

    /// The chunks of the wanted changes, taken from the stored files: change chunks as stored,
    /// changes inside a document chunk rebuilt from it byte-exact in one streaming pass that keeps
    /// only the wanted ones. Off this actor; nothing of the pass stays once it returns.
    package func changes(_ hashes: [ChangeHash], of id: DocumentId) async throws(StorageError) -> [ChangeChunk] {
        let wanted = Set(hashes)
        guard !wanted.isEmpty else { return [] }
        let skip = Set(unreadable[id] ?? [])
        let files = try await storedFiles(id).filter { !skip.contains($0.key) }.map(\.bytes)
        return await Task.detached { Self.findChanges(wanted, in: files) }.value
    }

    private static func findChanges(_ wanted: Set<ChangeHash>, in files: [[UInt8]]) -> [ChangeChunk] {
        var found: [ChangeHash: ChangeChunk] = [:]
        for file in files where found.count < wanted.count {
            var reader = ChunkReader(file)
            while found.count < wanted.count, let chunk = try? reader.next() {
                switch chunk {
                case .change(let change):
                    if wanted.contains(change.hash) { found[change.hash] = change }
                case .document(let bytes):
                    guard let document = try? DocumentChunk(bytes) else { continue }
                    try? document.rebuildChanges { (change: RebuiltChange) throws(AutomergeError) in
                        if wanted.contains(change.chunk.hash) && found[change.chunk.hash] == nil { found[change.chunk.hash] = change.chunk }
                    }
                }
            }
        }
        return hashes(wanted, orderedFrom: found)
    }

    private static func hashes(_ wanted: Set<ChangeHash>, orderedFrom found: [ChangeHash: ChangeChunk]) -> [ChangeChunk] {
        found.values.sorted { $0.hash < $1.hash }
    }

    /// The stored document as `storedDocument` gives it, with its heads read from the chunk headers
    /// alone (no change rebuilt): the snapshot's heads, plus the incremental changes, minus every
    /// change an incremental depends on. Nil unless the layout is the plain one (one snapshot, first;
    /// then change chunks) and every file reads: the caller then loads the document in full.
    package func storedDocumentAndHeads(_ id: DocumentId) async throws(StorageError) -> (bytes: [UInt8], heads: [ChangeHash])? {
        guard unreadable[id] == nil else { return nil }
        let files = try await storedFiles(id)
        if files.isEmpty { listedEmpty.insert(id) }
        guard files.first?.kind == .snapshot, files.filter({ $0.kind == .snapshot }).count == 1 else { return nil }
        var heads: Set<ChangeHash> = []
        var deps: Set<ChangeHash> = []
        var bytes: [UInt8] = []
        bytes.reserveCapacity(files.reduce(0) { $0 + $1.bytes.count })
        for (position, file) in files.enumerated() {
            if position == 1 {
                // The snapshot's own heads: its name is the hash of them (as JS names it), which tells
                // them apart from change chunks after its document chunk that repeat changes inside it.
                guard let name = files[0].key.documentChunk?.name, let snapshotHeads = Self.heads(named: name, among: heads.subtracting(deps))
                else { return nil }
                heads = snapshotHeads
                deps = []
            }
            var reader = ChunkReader(file.bytes)
            var first = true
            do throws(AutomergeError) {
                while let chunk = try reader.next() {
                    switch chunk {
                    case .document(let document):
                        guard position == 0, first else { return nil }
                        heads.formUnion(try DocumentChunk.heads(of: document))
                    case .change(let change):
                        guard position > 0 || !first else { return nil }
                        deps.formUnion(try ChangeMetadata(chunk: change).deps)
                        heads.insert(change.hash)
                    }
                    first = false
                }
            } catch {
                return nil
            }
            bytes.append(contentsOf: file.bytes)
        }
        if files.count == 1 {
            guard let name = files[0].key.documentChunk?.name, let snapshotHeads = Self.heads(named: name, among: heads.subtracting(deps))
            else { return nil }
            return (bytes, snapshotHeads.sorted())
        }
        let result = heads.subtracting(deps).sorted()
        return result.isEmpty ? nil : (bytes, result)
    }

    /// The subset of `candidates` whose snapshot name is `name` (candidates beyond a dozen are not searched).
    private static func heads(named name: String, among candidates: Set<ChangeHash>) -> Set<ChangeHash>? {
        let sorted = candidates.sorted()
        if NodeFSKeyHash.snapshotName(heads: sorted) == name { return candidates }
        guard sorted.count <= 12 else { return nil }
        for mask in 1..<(1 << sorted.count) {
            let subset = sorted.enumerated().filter { mask & (1 << $0.offset) != 0 }.map(\.element)
            if NodeFSKeyHash.snapshotName(heads: subset) == name { return Set(subset) }
        }
        return nil
    }

    private static func chunksAreIntact(_ bytes: [UInt8]) -> Bool {
        var reader = ChunkReader(bytes)
        do throws(AutomergeError) {
            while try reader.next() != nil {}
            return true
        } catch {
            return false
        }
    }

    private struct StoredFile {
        var key: StorageKey
        var kind: StorageChunkKind
        var bytes: [UInt8]
    }

    /// The document's chunk files, snapshots first. The incrementals are listed first: a compaction
    /// running meanwhile has made its snapshot durable before deleting any file, so whatever it removed
    /// after that listing is in a snapshot the second listing sees.
    private func storedFiles(_ id: DocumentId) async throws(StorageError) -> [StoredFile] {
        var incrementals: [StoredFile] = []
        var snapshots: [StoredFile] = []
        // Compared as text: the listing is below this id's own folder, so its keys spell the id as
        // `id.string` does, and no file name is decoded from Base58 (with its checksum) again.
        let idString = id.string
        let kinds = [StorageChunkKind.incremental, .snapshot]
        let ranges = try await storage.loadRanges(kinds.map { .prefix(id, $0) })
        for (kind, range) in zip(kinds, ranges) {
            for (key, bytes) in range {
                let components = key.components
                guard components.count == 3, components[0] == idString, components[1] == kind.rawValue,
                    NodeFSKeyHash.isHashName(components[2])
                else { continue }
                let file = StoredFile(key: key, kind: kind, bytes: bytes)
                if kind == .snapshot { snapshots.append(file) } else { incrementals.append(file) }
            }
        }
        return snapshots + incrementals
    }

    // MARK: Saving

    /// Makes `chunks` durable as one `incremental/<sha256 of the bytes>` file (their concatenation:
    /// each change's bytes are copied once, into that buffer), then queues a compaction in the
    /// background when the policy says so. Returns once the file is durable.
    package func save(_ id: DocumentId, chunks: [ChangeChunk]) async throws(StorageError) {
        guard !chunks.isEmpty else { return }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(chunks.reduce(0) { $0 + $1.bytes.count })
        for chunk in chunks { bytes.append(contentsOf: chunk.bytes) }
        try await saveReceived(id, bytes: bytes, isWholeDocument: false, heads: [])
    }

    /// Makes received chunks durable as they arrived: a whole document (a document chunk first) as
    /// `snapshot/<snapshotName(heads)>`, byte-identical to what the peer sent; change chunks as an
    /// incremental. Then queues a compaction when the policy says so.
    package func saveReceived(_ id: DocumentId, bytes: [UInt8], isWholeDocument: Bool, heads: [ChangeHash]) async throws(StorageError) {
        guard !bytes.isEmpty else { return }
        listedEmpty.remove(id)
        if isWholeDocument {
            let key = try Self.key(id, .snapshot, NodeFSKeyHash.snapshotName(heads: heads))
            try await storage.save(key, bytes)
            records[id, default: Record()].snapshots[key] = bytes.count
        } else {
            // Changes to this document made durable in the same round may share the file.
            let (key, byteCount) = try await storage.saveIncremental(id, bytes)
            records[id, default: Record()].incrementals[key] = byteCount
        }
        if records[id]?.shouldCompact(compactionPolicy) == true { scheduleCompaction(id) }
    }

    /// Whether the store's policy asks for a compaction of what this store knows of the document.
    package func shouldCompact(_ id: DocumentId) -> Bool { (records[id] ?? Record()).shouldCompact(compactionPolicy) }

    private func scheduleCompaction(_ id: DocumentId) {
        guard queuedCompactions.insert(id).inserted else { return }
        running.removeAll { $0.isCancelled }
        // Behind the peers: it starts after the save that asked for it has returned, and yields the CPU to them.
        let delay = compactionDelay
        let task = Task(priority: .background) {
            if delay > .zero { try? await Task.sleep(for: delay) }
            do throws(StorageError) {
                try await self.compact(id)
                self.compactionFinished(id, error: nil)
            } catch {
                self.compactionFinished(id, error: error)
            }
        }
        running.append(task)
    }

    private func compactionFinished(_ id: DocumentId, error: StorageError?) {
        queuedCompactions.remove(id)
        compactionFailures[id] = error
        if let error {
            // Nothing is lost: a file is deleted only once the snapshot holding it is durable.
            logger.warning(
                "compaction failed; no change is lost, and the next compaction retries",
                metadata: ["document": "\(id.string)", "error": "\(error)"]
            )
        }
    }

    /// Waits until every compaction queued so far has finished (tests, shutdown).
    package func waitForCompactions() async {
        while let task = running.first {
            running.removeFirst()
            await task.value
        }
    }

    /// The error of the last background compaction of a document, if it failed (kept until the next).
    package func lastCompactionFailure(_ id: DocumentId) -> StorageError? { compactionFailures[id] }

    /// Rewrites the document's stored chunks as one snapshot: what the reference's `save()` writes (one
    /// compressed document chunk, plus any queued orphan changes), or, when the changes do not form a
    /// document (ops that do not apply), their change chunks. Returns whether it wrote anything.
    ///
    /// Crash-safe: the snapshot, `snapshot/<snapshotName(heads)>`, is durable and has been loaded back
    /// and checked before any file it replaces is deleted, so a crash at any step leaves at worst
    /// harmless duplicates. Unreadable files are never deleted. Waits for the process's compaction gate.
    @discardableResult
    package func compact(_ id: DocumentId) async throws(StorageError) -> Bool {
        await gate.acquire()
        do throws(StorageError) {
            let written = try await compactHoldingGate(id)
            await gate.release()
            // A large compaction held the whole history for a while: give that memory back.
            if let written, written >= 256 << 10 { MemoryRelease.trim() }
            return written != nil
        } catch {
            await gate.release()
            throw error
        }
    }

    private func compactHoldingGate(_ id: DocumentId) async throws(StorageError) -> Int? {
        let files = try await storedFiles(id)
        let previouslyUnreadable = Set(unreadable[id] ?? [])
        var usable = files.filter { !previouslyUnreadable.contains($0.key) }
        guard !usable.isEmpty else { return nil }
        // Building the document replays every change: off this actor, so other documents keep saving.
        let inputs = usable.map(\.bytes)
        // On the low-priority background thread: it holds no cooperative thread while it works.
        let built = try await BlockingIO.runInBackground { Self.buildSnapshot(inputs) }
        guard let built else { return nil }
        usable.removeAll { built.unreadable.contains($0.bytes) }
        if built.unreadable.count > 0 {
            unreadable[id] = Array(previouslyUnreadable) + files.filter { built.unreadable.contains($0.bytes) }.map(\.key)
        }
        let key = try Self.key(id, .snapshot, NodeFSKeyHash.snapshotName(heads: built.heads))
        let alreadyStored = usable.contains { $0.key == key && $0.bytes == built.bytes }
        // Not through the group-commit rounds: a large snapshot must not delay the peers' writes.
        if !alreadyStored { try await storage.saveInBackground(key, built.bytes) }
        var record = records[id] ?? Record()
        // Durable from here on: the record must say so even if a deletion below fails.
        record.snapshots[key] = built.bytes.count
        records[id] = record
        // A failed deletion only leaves a duplicate; it stays recorded and is retried next time.
        let replaced = usable.map(\.key).filter { $0 != key }
        try await storage.removeInBackground(replaced)
        for old in replaced { records[id, default: Record()].remove(old) }
        return built.bytes.count
    }

    private struct BuiltSnapshot: Sendable {
        var bytes: [UInt8]
        var heads: [ChangeHash]
        /// Files (by content) that did not load and so stay on disk.
        var unreadable: Set<[UInt8]>
    }

    /// The snapshot of the given files: the saved document when it loads back to the same changes,
    /// otherwise every change chunk in topological order, followed by the queued orphans.
    ///
    /// When every file loads, `ChangeGraph.compacted` builds it with a memory bound (the index, the
    /// stored document's columns and the output: no op set, not every change's bytes). Otherwise
    /// (unreadable files, ops that do not apply) the files are loaded one by one into a graph
    /// keeping every change.
    private static func buildSnapshot(_ files: [[UInt8]]) -> BuiltSnapshot? {
        // One file (a document that is one large incremental, say) is compacted as it is: the
        // concatenation would hold its bytes twice for the whole build.
        if let compacted = try? ChangeGraph.compacted(files.count == 1 ? files[0] : files.flatMap { $0 }) {
            return BuiltSnapshot(bytes: compacted.bytes, heads: compacted.heads, unreadable: [])
        }
        var graph = ChangeGraph()
        var unreadable: Set<[UInt8]> = []
        if (try? graph.load(files.flatMap { $0 }, validation: .metadata)) == nil {
            graph = ChangeGraph()
            for file in files where (try? graph.load(file, validation: .metadata)) == nil { unreadable.insert(file) }
        }
        guard graph.count > 0 || graph.queuedCount > 0 else { return nil }
        if let document = try? graph.saveDocument() {
            var check = ChangeGraph(retainingChanges: false)
            if (try? check.load(document)) != nil, check.heads == graph.heads, check.count == graph.count,
                check.queuedCount == graph.queuedCount
            {
                return BuiltSnapshot(bytes: document, heads: graph.heads, unreadable: unreadable)
            }
        }
        var bytes: [UInt8] = []
        for hash in graph.allHashes { bytes.append(contentsOf: graph.chunk(for: hash)?.bytes ?? []) }
        for orphan in graph.orphanChunks { bytes.append(contentsOf: orphan.bytes) }
        return BuiltSnapshot(bytes: bytes, heads: graph.heads, unreadable: unreadable)
    }

    /// Deletes the document's snapshots, incrementals and sync states, as JS `removeDoc` does.
    package func removeDocument(_ id: DocumentId) async throws(StorageError) {
        for kind in StorageChunkKind.allCases { try await storage.removeRange(.prefix(id, kind)) }
        records[id] = nil
        unreadable[id] = nil
    }

    /// Drops what this store remembers of a document no one holds (its next load reads the files again).
    package func forget(_ id: DocumentId) {
        listedEmpty.remove(id)
        guard !queuedCompactions.contains(id) else { return }
        records[id] = nil
        unreadable[id] = nil
        compactionFailures[id] = nil
    }

    /// A peer is about to send the first changes of a document nothing is stored of: storage may
    /// make its folders now, while the peer's answer travels, rather than in the round that stores them.
    package func prepare(_ id: DocumentId) async {
        guard let record = records[id], record.snapshots.isEmpty, record.incrementals.isEmpty else { return }
        await storage.prepareDocument(id)
    }

    // MARK: Sync state

    /// The encoded sync state saved for a remote peer's storage id (validated as a file name).
    package func loadSyncState(_ id: DocumentId, storageId: String) async throws(StorageError) -> [UInt8]? {
        // Loaded with no chunk stored (a new document): it has shared nothing with anyone, so a sync
        // state could only say so. Not reading saves a new document a trip to the disk.
        if let record = records[id], record.snapshots.isEmpty, record.incrementals.isEmpty { return nil }
        return try await storage.load(Self.key(id, .syncState, storageId))
    }

    /// Written atomically but not flushed: a sync state lost in a crash costs one more Bloom round,
    /// and one that does not decode is ignored.
    package func saveSyncState(_ id: DocumentId, storageId: String, bytes: [UInt8]) async throws(StorageError) {
        try await storage.saveUnflushed(Self.key(id, .syncState, storageId), bytes)
    }

    // MARK: Helpers

    private static func key(_ id: DocumentId, _ kind: StorageChunkKind, _ name: String) throws(StorageError) -> StorageKey {
        do throws(StorageKeyError) {
            return try StorageKey.chunk(id, kind, name: name)
        } catch {
            throw .invalidKey(error)
        }
    }
}

/// A document as loaded from storage.
package struct LoadedDocument: Sendable {
    package var graph: ChangeGraph
    /// Chunk files that could not be read (left on disk for inspection).
    package var unreadableChunks: [StorageKey]
    /// Files exist but none could be read: the document must not be served as empty.
    package var isUnavailable: Bool

    package init(graph: ChangeGraph, unreadableChunks: [StorageKey] = [], isUnavailable: Bool = false) {
        self.graph = graph
        self.unreadableChunks = unreadableChunks
        self.isUnavailable = isUnavailable
    }
}
