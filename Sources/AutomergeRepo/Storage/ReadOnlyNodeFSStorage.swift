import AutomergeCore
package import Foundation

/// A NodeFS-layout directory opened for reading only, for tools that read a data directory a server
/// may be running on (`export`).
///
/// Opening it touches nothing: unlike `NodeFSStorage`, it creates no folder and does not clear `.tmp/`
/// (which holds a running server's in-flight writes).
package struct ReadOnlyNodeFSStorage: Sendable {
    /// One stored chunk file of a document.
    package struct ChunkFile: Sendable {
        package var path: String
        package var kind: StorageChunkKind
        package var bytes: [UInt8]
    }

    package let root: URL
    private let fileSystem: any FileSystem

    package init(directory: URL) {
        self.init(directory: directory, fileSystem: PosixFileSystem())
    }

    init(directory: URL, fileSystem: any FileSystem) {
        root = directory.standardizedFileURL
        self.fileSystem = fileSystem
    }

    /// The document's chunk files, snapshots first, then incrementals, each kind sorted by name so the
    /// result is deterministic; empty when nothing is stored. Only files named as the repo names them
    /// (64 lower-case hex digits) count: editor backups and `.DS_Store` are not chunks.
    package func chunkFiles(of id: DocumentId) throws(StorageError) -> [ChunkFile] {
        var files: [ChunkFile] = []
        for kind in [StorageChunkKind.snapshot, .incremental] {
            let folder = StorageKey.prefix(id, kind).pathComponents.reduce(root) {
                $0.appendingPathComponent($1, isDirectory: true)
            }
            let names = (try fileSystem.listDirectory(folder.path) ?? []).filter(NodeFSKeyHash.isHashName).sorted()
            for name in names {
                let path = folder.appendingPathComponent(name).path
                // Listed a moment ago: gone now means a compaction replaced it, so this listing is stale.
                guard let bytes = try fileSystem.readFile(path) else {
                    throw StorageError.io(operation: "open", path: path, errno: ENOENT, reason: "the file was removed while reading")
                }
                files.append(ChunkFile(path: path, kind: kind, bytes: bytes))
            }
        }
        return files
    }
}
