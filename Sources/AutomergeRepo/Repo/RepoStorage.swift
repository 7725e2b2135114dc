import AutomergeCore

/// What the repo needs from storage. The NodeFS-compatible store implements it for the
/// server; `InMemoryRepoStorage` serves tests and storage-less peers.
public protocol RepoStorage: Sendable {
    /// The stable id this storage advertises to peers (created once).
    func storageId() async throws -> String
    /// Every stored chunk of a document, loaded; nil when nothing is stored.
    func loadDocument(_ id: DocumentId) async throws -> ChangeGraph?
    /// Makes `chunks` durable before returning; `graph` (which already contains them) lets the
    /// store decide whether to compact.
    func saveChanges(_ chunks: [ChangeChunk], of id: DocumentId, graph: ChangeGraph) async throws
    func loadSyncState(of id: DocumentId, peer storageId: String) async throws -> [UInt8]?
    func saveSyncState(_ bytes: [UInt8], of id: DocumentId, peer storageId: String) async throws
}

/// Storage in memory: nothing survives the process.
public actor InMemoryRepoStorage: RepoStorage {
    private let id: String
    private var documents: [DocumentId: [UInt8]] = [:]
    private var syncStates: [String: [UInt8]] = [:]
    /// How many times `saveChanges` ran (tests use it to check durability ordering).
    public private(set) var saveCount = 0

    public init(storageId: String = "in-memory") { id = storageId }

    public func storageId() -> String { id }

    public func loadDocument(_ id: DocumentId) throws -> ChangeGraph? {
        guard let bytes = documents[id] else { return nil }
        var graph = ChangeGraph()
        try graph.load(bytes, validation: .metadata)
        return graph
    }

    public func saveChanges(_ chunks: [ChangeChunk], of id: DocumentId, graph: ChangeGraph) {
        saveCount += 1
        for chunk in chunks { documents[id, default: []].append(contentsOf: chunk.bytes) }
    }

    public func loadSyncState(of id: DocumentId, peer storageId: String) -> [UInt8]? { syncStates[id.string + "/" + storageId] }

    public func saveSyncState(_ bytes: [UInt8], of id: DocumentId, peer storageId: String) {
        syncStates[id.string + "/" + storageId] = bytes
    }

    /// The raw bytes stored for a document (tests).
    public func storedBytes(of id: DocumentId) -> [UInt8]? { documents[id] }
}
