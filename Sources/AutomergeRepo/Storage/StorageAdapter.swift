/// The storage seam, with the semantics of automerge-repo's NodeFS adapter (docs/storage.md §5).
///
/// - `load` of a missing key is `nil`.
/// - `save` overwrites; when it returns, the bytes are durable (NodeFS itself writes in place and does
///   not sync; implementations here are stricter so an acknowledged change survives a crash).
/// - `remove` of a missing key is not an error.
/// - `loadRange` / `removeRange` cover every key whose path lies at or below the prefix's path, i.e.
///   whose components start with the prefix's components.
public protocol StorageAdapter: Sendable {
    func load(_ key: StorageKey) async throws(StorageError) -> [UInt8]?
    func save(_ key: StorageKey, _ bytes: [UInt8]) async throws(StorageError)
    func remove(_ key: StorageKey) async throws(StorageError)
    func loadRange(_ prefix: StorageKey) async throws(StorageError) -> [(StorageKey, [UInt8])]
    func removeRange(_ prefix: StorageKey) async throws(StorageError)
}

extension StorageKey {
    /// Whether this key lies at or below `prefix` in the NodeFS tree.
    func hasPrefix(_ prefix: StorageKey) -> Bool {
        let mine = pathComponents
        let theirs = prefix.pathComponents
        return mine.count >= theirs.count && Array(mine.prefix(theirs.count)) == theirs
    }
}
