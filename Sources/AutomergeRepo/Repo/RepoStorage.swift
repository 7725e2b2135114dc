package import AutomergeCore

/// What the repo needs from storage. The NodeFS-compatible store implements it for the
/// server; `InMemoryRepoStorage` serves tests and storage-less peers.
///
/// The repo calls it for one document at a time (its sync path is serialised per document), so
/// implementations need no per-document lock of their own.
package protocol RepoStorage: Sendable {
    /// The stable id this storage advertises to peers (created once).
    func storageId() async throws -> String
    /// Every stored chunk of a document, loaded; nil when nothing is stored.
    func loadDocument(_ id: DocumentId) async throws -> LoadedDocument?
    /// Makes `chunks` (changes new to the document) durable before returning.
    func saveChanges(_ chunks: [ChangeChunk], of id: DocumentId) async throws
    /// Makes a received stream of chunks durable before returning, as it is: `bytes` is a whole
    /// document (a document chunk first) when `isWholeDocument`, else change chunks. Every chunk in it
    /// is new to the document.
    func saveReceived(_ bytes: [UInt8], isWholeDocument: Bool, heads: [ChangeHash], of id: DocumentId) async throws
    /// The stored chunks of a document as they are, snapshot first (what a peer that needs the whole
    /// document is sent); nil when there are none or the storage cannot say.
    func storedDocument(_ id: DocumentId) async throws -> [UInt8]?
    /// The chunks of the given stored changes (those found), rebuilt byte-exact from the stored
    /// document where that is where they live.
    func changes(_ hashes: [ChangeHash], of id: DocumentId) async throws -> [ChangeChunk]
    /// The stored document with its heads, read without building the document's index; nil when
    /// the storage cannot tell them that cheaply (the repo then loads the document).
    func storedDocumentAndHeads(_ id: DocumentId) async throws -> (bytes: [UInt8], heads: [ChangeHash])?
    func loadSyncState(of id: DocumentId, peer storageId: String) async throws -> [UInt8]?
    func saveSyncState(_ bytes: [UInt8], of id: DocumentId, peer storageId: String) async throws
    /// The repo let the document go: drop anything kept for it.
    func release(_ id: DocumentId) async
    /// A peer announced changes of a document nothing is stored of: its first save is coming, and
    /// storage may get ready for it (best effort, nothing a load would see).
    func prepare(_ id: DocumentId) async
}

extension RepoStorage {
    package func prepare(_ id: DocumentId) async {}
}

/// Storage in memory: nothing survives the process.
package actor InMemoryRepoStorage: RepoStorage {
    private let id: String
    private var documents: [DocumentId: [UInt8]] = [:]
    private var syncStates: [String: [UInt8]] = [:]
    /// How many times changes were saved (tests use it to check durability ordering).
    package private(set) var saveCount = 0
    /// How many times a sync state was written.
    package private(set) var syncStateWrites = 0

    package init(storageId: String = "in-memory") { id = storageId }

    package func storageId() -> String { id }

    package func loadDocument(_ id: DocumentId) throws -> LoadedDocument? {
        guard let bytes = documents[id] else { return nil }
        var graph = ChangeGraph()
        try graph.load(bytes, validation: .metadata)
        return LoadedDocument(graph: graph)
    }

    package func saveChanges(_ chunks: [ChangeChunk], of id: DocumentId) {
        saveCount += 1
        for chunk in chunks { documents[id, default: []].append(contentsOf: chunk.bytes) }
    }

    package func saveReceived(_ bytes: [UInt8], isWholeDocument: Bool, heads: [ChangeHash], of id: DocumentId) {
        saveCount += 1
        if isWholeDocument {
            documents[id] = bytes + (documents[id] ?? [])
        } else {
            documents[id, default: []].append(contentsOf: bytes)
        }
    }

    package func storedDocument(_ id: DocumentId) -> [UInt8]? { documents[id] }

    package func changes(_ hashes: [ChangeHash], of id: DocumentId) throws -> [ChangeChunk] {
        guard let graph = try loadDocument(id)?.graph else { return [] }
        return graph.chunks(for: hashes)
    }

    package func loadSyncState(of id: DocumentId, peer storageId: String) -> [UInt8]? { syncStates[id.string + "/" + storageId] }

    package func saveSyncState(_ bytes: [UInt8], of id: DocumentId, peer storageId: String) {
        syncStateWrites += 1
        syncStates[id.string + "/" + storageId] = bytes
    }

    package func release(_ id: DocumentId) {}

    package func storedDocumentAndHeads(_ id: DocumentId) -> (bytes: [UInt8], heads: [ChangeHash])? { nil }

    /// The raw bytes stored for a document (tests).
    package func storedBytes(of id: DocumentId) -> [UInt8]? { documents[id] }
}
