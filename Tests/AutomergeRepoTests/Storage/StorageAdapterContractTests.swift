import Foundation
import Testing

@testable import AutomergeRepo

/// The storage-adapter contract (automerge-repo `runStorageAdapterTests`, docs/storage.md §7), run against both
/// implementations.
@Suite struct StorageAdapterContractTests {
    enum Implementation: String, CaseIterable, CustomTestStringConvertible {
        case nodeFS
        case inMemory
        var testDescription: String { rawValue }
    }

    private func makeAdapter(_ implementation: Implementation) throws -> (any StorageAdapter, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        switch implementation {
        case .nodeFS: return (try NodeFSStorage(directory: directory.url), directory)
        case .inMemory: return (InMemoryStorage(), directory)
        }
    }

    private func key(_ components: String...) throws -> StorageKey { try StorageKey(components) }

    private func payload(_ seed: UInt8, count: Int = 32) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) ^ seed } }

    private func sortedKeys(_ chunks: [(StorageKey, [UInt8])]) -> [String] { chunks.map(\.0.description).sorted() }

    @Test(arguments: Implementation.allCases)
    func loadOfMissingKeyIsNil(_ implementation: Implementation) async throws {
        let (adapter, directory) = try makeAdapter(implementation)
        defer { directory.remove() }
        #expect(try await adapter.load(try key("AAAAA", "sync-state", "xxxxx")) == nil)
        #expect(try await adapter.load(.storageAdapterId) == nil)
    }

    @Test(arguments: Implementation.allCases)
    func saveThenLoadReturnsTheBytes(_ implementation: Implementation) async throws {
        let (adapter, directory) = try makeAdapter(implementation)
        defer { directory.remove() }
        try await adapter.save(.storageAdapterId, payload(1))
        #expect(try await adapter.load(.storageAdapterId) == payload(1))
        let composite = try key("AAAAA", "sync-state", "xxxxx")
        try await adapter.save(composite, payload(2))
        #expect(try await adapter.load(composite) == payload(2))
        let large = payload(3, count: 100_000)
        let bigKey = try key("AAAAA", "snapshot", "large")
        try await adapter.save(bigKey, large)
        #expect(try await adapter.load(bigKey) == large)
        let empty = try key("AAAAA", "incremental", "empty")
        try await adapter.save(empty, [])
        #expect(try await adapter.load(empty) == [])
    }

    @Test(arguments: Implementation.allCases)
    func saveOverwrites(_ implementation: Implementation) async throws {
        let (adapter, directory) = try makeAdapter(implementation)
        defer { directory.remove() }
        let k = try key("AAAAA", "sync-state", "xxxxx")
        try await adapter.save(k, payload(1, count: 100))
        try await adapter.save(k, payload(2, count: 10))
        #expect(try await adapter.load(k) == payload(2, count: 10))
        #expect(try await adapter.loadRange(try key("AAAAA")).count == 1)
    }

    @Test(arguments: Implementation.allCases)
    func removeDeletesOnlyThatKey(_ implementation: Implementation) async throws {
        let (adapter, directory) = try makeAdapter(implementation)
        defer { directory.remove() }
        let a = try key("AAAAA", "snapshot", "xxxxx")
        let b = try key("AAAAA", "snapshot", "yyyyy")
        try await adapter.save(a, payload(1))
        try await adapter.save(b, payload(2))
        try await adapter.remove(a)
        #expect(try await adapter.load(a) == nil)
        #expect(try await adapter.load(b) == payload(2))
        // Removing a missing key is not an error.
        try await adapter.remove(a)
        try await adapter.remove(try key("ZZZZZ", "nothing", "here"))
    }

    @Test(arguments: Implementation.allCases)
    func loadRangeReturnsOnlyKeysUnderThePrefix(_ implementation: Implementation) async throws {
        let (adapter, directory) = try makeAdapter(implementation)
        defer { directory.remove() }
        #expect(try await adapter.loadRange(try key("AAAAA")).isEmpty)
        try await adapter.save(try key("AAAAA", "sync-state", "xxxxx"), payload(1))
        try await adapter.save(try key("AAAAA", "snapshot", "yyyyy"), payload(2))
        try await adapter.save(try key("AAAAA", "sync-state", "zzzzz"), payload(3))
        try await adapter.save(try key("AAAAA", "deep", "er", "nested", "key"), payload(4))
        // Same 2-character directory, different document folder; and a longer first component.
        try await adapter.save(try key("AABBB", "sync-state", "xxxxx"), payload(5))
        try await adapter.save(try key("AAAAAB", "sync-state", "xxxxx"), payload(6))
        try await adapter.save(.storageAdapterId, payload(7))

        let all = try await adapter.loadRange(try key("AAAAA"))
        #expect(
            sortedKeys(all) == [
                "[AAAAA, deep, er, nested, key]", "[AAAAA, snapshot, yyyyy]", "[AAAAA, sync-state, xxxxx]", "[AAAAA, sync-state, zzzzz]",
            ]
        )
        for (k, bytes) in all { #expect(try await adapter.load(k) == bytes) }

        let syncStates = try await adapter.loadRange(try key("AAAAA", "sync-state"))
        #expect(sortedKeys(syncStates) == ["[AAAAA, sync-state, xxxxx]", "[AAAAA, sync-state, zzzzz]"])
        #expect(syncStates.first { $0.0 == (try? key("AAAAA", "sync-state", "zzzzz")) }?.1 == payload(3))

        #expect(sortedKeys(try await adapter.loadRange(try key("AAAAA", "deep", "er"))) == ["[AAAAA, deep, er, nested, key]"])
        #expect(sortedKeys(try await adapter.loadRange(try key("AABBB"))) == ["[AABBB, sync-state, xxxxx]"])
        #expect(try await adapter.loadRange(try key("AAAAA", "incremental")).isEmpty)
        // A prefix that is a whole key returns that key.
        #expect(sortedKeys(try await adapter.loadRange(.storageAdapterId)) == ["[storage-adapter-id]"])
    }

    @Test(arguments: Implementation.allCases)
    func removeRangeRemovesOnlyKeysUnderThePrefix(_ implementation: Implementation) async throws {
        let (adapter, directory) = try makeAdapter(implementation)
        defer { directory.remove() }
        try await adapter.save(try key("AAAAA", "sync-state", "xxxxx"), payload(1))
        try await adapter.save(try key("AAAAA", "snapshot", "yyyyy"), payload(2))
        try await adapter.save(try key("AAAAA", "sync-state", "zzzzz"), payload(3))
        try await adapter.save(try key("BBBBB", "sync-state", "zzzzz"), payload(4))

        try await adapter.removeRange(try key("AAAAA", "sync-state"))
        #expect(sortedKeys(try await adapter.loadRange(try key("AAAAA"))) == ["[AAAAA, snapshot, yyyyy]"])

        try await adapter.removeRange(try key("AAAAA"))
        #expect(try await adapter.loadRange(try key("AAAAA")).isEmpty)
        #expect(try await adapter.load(try key("BBBBB", "sync-state", "zzzzz")) == payload(4))
        // A missing range is not an error.
        try await adapter.removeRange(try key("CCCCC"))
    }

    /// `[k0, k1, …]` lives at `<k0[0..<2]>/<k0[2...]>/<k1>/…` (docs/storage.md §1), and files placed there by another
    /// writer are found.
    @Test func nodeFSUsesTheTwoCharacterSplit() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let storage = try NodeFSStorage(directory: directory.url)
        try await storage.save(try key("2GaPo4hkBduU9JmThzTbuf4Pw1dF", "sync-state", "peer"), payload(1))
        try await storage.save(.storageAdapterId, payload(2))
        #expect(try directory.read("2G/aPo4hkBduU9JmThzTbuf4Pw1dF/sync-state/peer") == payload(1))
        #expect(try directory.read("st/orage-adapter-id") == payload(2))
        #expect(directory.allFiles() == ["2G/aPo4hkBduU9JmThzTbuf4Pw1dF/sync-state/peer", "st/orage-adapter-id"])

        try directory.write("AA/AAA/snapshot/written-by-js", payload(3))
        #expect(try await storage.load(try key("AAAAA", "snapshot", "written-by-js")) == payload(3))
        #expect(sortedKeys(try await storage.loadRange(try key("AAAAA"))) == ["[AAAAA, snapshot, written-by-js]"])
    }
}
