package import AutomergeCore
package import Foundation
package import Logging

/// The repo's storage in a directory laid out as `@automerge/automerge-repo-storage-nodefs`
/// lays it out, so a data directory from the Node server works unchanged (and back).
package struct NodeFSRepoStorage: RepoStorage {
    package let files: NodeFSStorage
    package let documents: DocumentStore

    /// How long the server lets a due compaction wait, so the saves meanwhile share it.
    package static let defaultCompactionDelay: Duration = .milliseconds(500)

    /// - Parameters:
    ///   - compactionGate: limits compactions to one at a time (the process's gate by default).
    ///   - commits: the group-commit coordinator durable writes join (the process's by default).
    ///   - compactionDelay: how long a due compaction waits before it starts.
    ///   - compactionPolicy: when a document is due (the reference's rule by default; the server
    ///     passes `batched`: see `CompactionPolicy`).
    ///   - logger: where compaction and damaged-file warnings go (the application names it).
    package init(
        directory: URL,
        compactionGate: CompactionGate = .shared,
        commits: GroupCommit = .shared,
        compactionDelay: Duration = NodeFSRepoStorage.defaultCompactionDelay,
        compactionPolicy: CompactionPolicy = .reference,
        logger: Logger = Logger(label: "automerge-repo.storage")
    ) throws(StorageError) {
        files = try NodeFSStorage(directory: directory, commits: commits)
        documents = DocumentStore(
            storage: files,
            gate: compactionGate,
            compactionDelay: compactionDelay,
            compactionPolicy: compactionPolicy,
            logger: logger
        )
    }

    init(files: NodeFSStorage, compactionGate: CompactionGate, compactionPolicy: CompactionPolicy = .reference) {
        self.files = files
        documents = DocumentStore(
            storage: files,
            gate: compactionGate,
            compactionDelay: Self.defaultCompactionDelay,
            compactionPolicy: compactionPolicy
        )
    }

    package func storageId() async throws -> String { try await files.storageId() }

    package func loadDocument(_ id: DocumentId) async throws -> LoadedDocument? { try await documents.load(id) }

    /// One incremental file, durable on return; a compaction, when due, runs later in the background.
    package func saveChanges(_ chunks: [ChangeChunk], of id: DocumentId) async throws {
        try await documents.save(id, chunks: chunks)
    }

    package func saveReceived(_ bytes: [UInt8], isWholeDocument: Bool, heads: [ChangeHash], of id: DocumentId) async throws {
        try await documents.saveReceived(id, bytes: bytes, isWholeDocument: isWholeDocument, heads: heads)
    }

    package func storedDocument(_ id: DocumentId) async throws -> [UInt8]? { try await documents.storedDocument(id) }

    package func storedDocumentAndHeads(_ id: DocumentId) async throws -> (bytes: [UInt8], heads: [ChangeHash])? {
        try await documents.storedDocumentAndHeads(id)
    }

    package func changes(_ hashes: [ChangeHash], of id: DocumentId) async throws -> [ChangeChunk] {
        try await documents.changes(hashes, of: id)
    }

    package func loadSyncState(of id: DocumentId, peer storageId: String) async throws -> [UInt8]? {
        try await documents.loadSyncState(id, storageId: storageId)
    }

    package func saveSyncState(_ bytes: [UInt8], of id: DocumentId, peer storageId: String) async throws {
        try await documents.saveSyncState(id, storageId: storageId, bytes: bytes)
    }

    package func release(_ id: DocumentId) async { await documents.forget(id) }

    package func prepare(_ id: DocumentId) async { await documents.prepare(id) }
}
