import AutomergeCore
import Foundation

/// The repo's storage in a directory laid out as `@automerge/automerge-repo-storage-nodefs`
/// lays it out, so a data directory from the Node server works unchanged (and back).
public struct NodeFSRepoStorage: RepoStorage {
    public let files: NodeFSStorage
    public let documents: DocumentStore

    public init(directory: URL) throws(StorageError) {
        files = try NodeFSStorage(directory: directory)
        documents = DocumentStore(storage: files)
    }

    public func storageId() async throws -> String { try await files.storageId() }

    public func loadDocument(_ id: DocumentId) async throws -> ChangeGraph? { try await documents.loadDocument(id) }

    /// Writes the changes as one incremental file (durable on return), then compacts when the
    /// JavaScript repo's rule says so.
    public func saveChanges(_ chunks: [ChangeChunk], of id: DocumentId, graph: ChangeGraph) async throws {
        try await documents.saveIncremental(id, chunks: chunks)
        if await documents.shouldCompact(id) { try await documents.compact(id, graph: graph) }
    }

    public func loadSyncState(of id: DocumentId, peer storageId: String) async throws -> [UInt8]? {
        try await documents.loadSyncState(id, storageId: storageId)
    }

    public func saveSyncState(_ bytes: [UInt8], of id: DocumentId, peer storageId: String) async throws {
        try await documents.saveSyncState(id, storageId: storageId, bytes: bytes)
    }
}
