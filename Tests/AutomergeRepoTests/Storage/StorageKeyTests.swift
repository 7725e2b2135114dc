import AutomergeCore
import Testing

@testable import AutomergeRepo

@Suite struct StorageKeyTests {
    @Test func pathsFollowNodeFSLayout() throws {
        let id = try DocumentId("2GaPo4hkBduU9JmThzTbuf4Pw1dF")
        #expect(StorageKey.storageAdapterId.relativePath == "st/orage-adapter-id")
        let snapshot = try StorageKey.chunk(id, .snapshot, name: String(repeating: "a", count: 64))
        #expect(snapshot.relativePath == "2G/aPo4hkBduU9JmThzTbuf4Pw1dF/snapshot/" + String(repeating: "a", count: 64))
        let syncState = try StorageKey.chunk(id, .syncState, name: "1fcd2698-3426-4288-9c47-85364db5073b")
        #expect(syncState.pathComponents == ["2G", "aPo4hkBduU9JmThzTbuf4Pw1dF", "sync-state", "1fcd2698-3426-4288-9c47-85364db5073b"])
        #expect(StorageKey.prefix(id, .incremental).relativePath == "2G/aPo4hkBduU9JmThzTbuf4Pw1dF/incremental")
        #expect(StorageKey.prefix(id).relativePath == "2G/aPo4hkBduU9JmThzTbuf4Pw1dF")
        #expect(try StorageKey(relativePath: syncState.relativePath) == syncState)
        #expect(try StorageKey(relativePath: "st/orage-adapter-id") == .storageAdapterId)
        let chunk = try #require(syncState.documentChunk)
        #expect(chunk.documentId == id && chunk.kind == .syncState)
        #expect(StorageKey.storageAdapterId.documentChunk == nil)
    }

    @Test func unsafeComponentsAreRejected() {
        #expect(throws: StorageKeyError.emptyKey) { try StorageKey([]) }
        #expect(throws: StorageKeyError.emptyComponent(index: 1)) { try StorageKey(["abc", ""]) }
        #expect(throws: StorageKeyError.forbiddenCharacter(index: 2)) { try StorageKey(["abc", "sync-state", "../x"]) }
        #expect(throws: StorageKeyError.forbiddenCharacter(index: 2)) { try StorageKey(["abc", "sync-state", "a\\b"]) }
        #expect(throws: StorageKeyError.forbiddenCharacter(index: 2)) { try StorageKey(["abc", "sync-state", "a\u{0}b"]) }
        #expect(throws: StorageKeyError.forbiddenCharacter(index: 1)) { try StorageKey(["abc", "a\nb"]) }
        #expect(throws: StorageKeyError.dotSegment(index: 2)) { try StorageKey(["abc", "sync-state", ".."]) }
        #expect(throws: StorageKeyError.dotSegment(index: 1)) { try StorageKey(["abc", "."]) }
        // The 2-character split must not create a dot segment either.
        #expect(throws: StorageKeyError.dotSegment(index: 0)) { try StorageKey(["..x"]) }
        #expect(throws: StorageKeyError.dotSegment(index: 0)) { try StorageKey(["ab.."]) }
        #expect(throws: StorageKeyError.dotSegment(index: 0)) { try StorageKey(["ab."]) }
        #expect(throws: StorageKeyError.firstComponentUnsplittable) { try StorageKey(["ab"]) }
        #expect(throws: StorageKeyError.firstComponentUnsplittable) { try StorageKey(["éabc"]) }
        #expect(throws: StorageKeyError.componentTooLong(index: 1, byteCount: 256)) { try StorageKey(["abc", String(repeating: "x", count: 256)]) }
        #expect(throws: StorageKeyError.self) { try StorageKey(relativePath: "abc") }
        #expect(throws: StorageKeyError.self) { try StorageKey(relativePath: "a/bc") }
        #expect(throws: StorageKeyError.self) { try StorageKey(relativePath: "ab/c//x") }
        #expect(throws: StorageKeyError.self) { try StorageKey(relativePath: "ab/../x") }
        let id = DocumentId.random()
        #expect(throws: StorageKeyError.forbiddenCharacter(index: 2)) { try StorageKey.chunk(id, .syncState, name: "../../escape") }
    }

    @Test func keyHashes() throws {
        // docs/storage.md §2 vector.
        let heads = [String(repeating: "0123456789abcdef", count: 4), String(repeating: "a", count: 64)]
        #expect(NodeFSKeyHash.snapshotName(hexHeads: heads) == "69d82e8e1b75e0a8c8f3a75cb8a2529a6b459e475fc28dbb1c43df3a878174bb")
        let hashes = try heads.reversed().map { try #require(ChangeHash(hex: $0)) }
        #expect(NodeFSKeyHash.snapshotName(heads: hashes) == "69d82e8e1b75e0a8c8f3a75cb8a2529a6b459e475fc28dbb1c43df3a878174bb")
        // SHA-256("abc").
        #expect(NodeFSKeyHash.incrementalName(for: Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(NodeFSKeyHash.snapshotName(hexHeads: []) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(NodeFSKeyHash.isHashName(heads[1]))
        #expect(!NodeFSKeyHash.isHashName(".DS_Store"))
        #expect(!NodeFSKeyHash.isHashName(heads[1].uppercased()))
    }
}
