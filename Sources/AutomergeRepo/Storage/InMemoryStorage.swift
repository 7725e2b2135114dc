/// A `StorageAdapter` in memory, for tests of the layers above storage. Same contract as
/// `NodeFSStorage`, including the order `loadRange` returns (sorted by path).
package actor InMemoryStorage: StorageAdapter {
    private var entries: [StorageKey: [UInt8]] = [:]

    package init() {}

    package func load(_ key: StorageKey) throws(StorageError) -> [UInt8]? { entries[key] }

    package func save(_ key: StorageKey, _ bytes: [UInt8]) throws(StorageError) { entries[key] = bytes }

    package func remove(_ key: StorageKey) throws(StorageError) { entries[key] = nil }

    package func loadRange(_ prefix: StorageKey) throws(StorageError) -> [(StorageKey, [UInt8])] {
        entries.filter { $0.key.hasPrefix(prefix) }
            .sorted { $0.key.relativePath < $1.key.relativePath }
            .map { ($0.key, $0.value) }
    }

    package func removeRange(_ prefix: StorageKey) throws(StorageError) {
        entries = entries.filter { !$0.key.hasPrefix(prefix) }
    }

    /// Every stored key, for assertions.
    package var keys: [StorageKey] { entries.keys.sorted { $0.relativePath < $1.relativePath } }
}
