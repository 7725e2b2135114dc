/// The storage seam, with the semantics of automerge-repo's NodeFS adapter (docs/storage.md §5).
///
/// - `load` of a missing key is `nil`.
/// - `save` overwrites; when it returns, the bytes are durable (NodeFS itself writes in place and does
///   not sync; implementations here are stricter so an acknowledged change survives a crash).
/// - `remove` of a missing key is not an error.
/// - `loadRange` / `removeRange` cover every key whose path lies at or below the prefix's path, i.e.
///   whose components start with the prefix's components.
package protocol StorageAdapter: Sendable {
    func load(_ key: StorageKey) async throws(StorageError) -> [UInt8]?
    func save(_ key: StorageKey, _ bytes: [UInt8]) async throws(StorageError)
    func remove(_ key: StorageKey) async throws(StorageError)
    func loadRange(_ prefix: StorageKey) async throws(StorageError) -> [(StorageKey, [UInt8])]
    /// `loadRange` of each prefix, one after the other in this order, in one call (an adapter may
    /// save the hops: opening a new document lists two folders).
    func loadRanges(_ prefixes: [StorageKey]) async throws(StorageError) -> [[(StorageKey, [UInt8])]]
    func removeRange(_ prefix: StorageKey) async throws(StorageError)
    /// Makes change chunks of a document durable as an incremental file (docs/storage.md §3) and returns the
    /// file's key and size. An adapter may put appends to the same document that are made durable
    /// together into one file (named, as JS names it, by the hash of all its bytes).
    func saveIncremental(_ id: DocumentId, _ bytes: [UInt8]) async throws(StorageError) -> (key: StorageKey, byteCount: Int)
    /// `save` for work nobody is waiting on (compaction): durable on return, but kept apart from the
    /// writes peers wait for, so it never delays them.
    func saveInBackground(_ key: StorageKey, _ bytes: [UInt8]) async throws(StorageError)
    /// Replaces the file atomically (a reader sees the old bytes or the new ones) without waiting for
    /// a flush: for data whose loss costs only time, such as sync states.
    func saveUnflushed(_ key: StorageKey, _ bytes: [UInt8]) async throws(StorageError)
    /// Removes these keys (compaction's replaced files), beside the writes peers wait for; an
    /// adapter may make the removals durable together.
    func removeInBackground(_ keys: [StorageKey]) async throws(StorageError)
    /// Gets ready for a new document's first incremental (best effort; nothing is written that a
    /// load would see).
    func prepareDocument(_ id: DocumentId) async
}

extension StorageAdapter {
    package func loadRanges(_ prefixes: [StorageKey]) async throws(StorageError) -> [[(StorageKey, [UInt8])]] {
        var ranges: [[(StorageKey, [UInt8])]] = []
        for prefix in prefixes { ranges.append(try await loadRange(prefix)) }
        return ranges
    }

    package func saveIncremental(_ id: DocumentId, _ bytes: [UInt8]) async throws(StorageError) -> (key: StorageKey, byteCount: Int) {
        let key: StorageKey
        do throws(StorageKeyError) {
            key = try StorageKey.chunk(id, .incremental, name: NodeFSKeyHash.incrementalName(for: bytes))
        } catch {
            throw .invalidKey(error)
        }
        try await save(key, bytes)
        return (key, bytes.count)
    }

    package func saveInBackground(_ key: StorageKey, _ bytes: [UInt8]) async throws(StorageError) {
        try await save(key, bytes)
    }

    package func saveUnflushed(_ key: StorageKey, _ bytes: [UInt8]) async throws(StorageError) {
        try await save(key, bytes)
    }

    package func removeInBackground(_ keys: [StorageKey]) async throws(StorageError) {
        for key in keys { try await remove(key) }
    }

    package func prepareDocument(_ id: DocumentId) async {}
}

extension StorageKey {
    /// Whether this key lies at or below `prefix` in the NodeFS tree.
    func hasPrefix(_ prefix: StorageKey) -> Bool {
        let mine = pathComponents
        let theirs = prefix.pathComponents
        return mine.count >= theirs.count && Array(mine.prefix(theirs.count)) == theirs
    }
}
