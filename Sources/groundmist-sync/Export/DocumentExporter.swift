import AutomergeCore
import AutomergeRepo
import Foundation

/// Reads one document's stored chunks from a NodeFS-layout repo directory and joins them into a
/// single `.automerge` file (snapshots first, then incrementals: the concatenation the repo itself
/// loads), checked with `ChangeGraph` before anyone writes it out.
///
/// Strictly read-only: it reads through `ReadOnlyNodeFSStorage`, never `NodeFSStorage`, which creates
/// folders and clears `.tmp/` (a running server's in-flight writes).
struct DocumentExporter {
    let directory: URL

    struct Export {
        /// The loadable file: every readable stored chunk, concatenated.
        var bytes: [UInt8]
        var snapshotFiles: Int
        var incrementalFiles: Int
        /// Stored files that could not be read as Automerge chunks (left out of `bytes`).
        var skippedFiles: [String]
        var heads: [ChangeHash]
        var changeCount: Int
        /// Changes whose dependencies are not stored (kept in the file, as the repo keeps them).
        var changesWithMissingDependencies: Int
    }

    enum ExportError: Error, CustomStringConvertible {
        case notFound(documentId: String, directory: String)
        case unreadableFile(String)
        case corrupt(documentId: String, detail: String)

        var description: String {
            switch self {
            case .notFound(let id, let directory):
                "document \(id) is not stored in \(directory) (check --data-dir and --group)"
            case .unreadableFile(let path): "cannot read \(path)"
            case .corrupt(let id, let detail): "document \(id) is stored but none of its files loads: \(detail)"
            }
        }
    }

    func export(_ id: DocumentId) throws(ExportError) -> Export {
        let files: [ReadOnlyNodeFSStorage.ChunkFile]
        do {
            files = try ReadOnlyNodeFSStorage(directory: directory).chunkFiles(of: id)
        } catch {
            switch error {
            case .io(_, let path, _, _): throw .unreadableFile(path)
            default: throw .unreadableFile(directory.path)
            }
        }
        guard !files.isEmpty else { throw .notFound(documentId: id.string, directory: directory.path) }

        // Full validation: the file is meant for other tools, which decode every op.
        let outcome = StoredChunkLoader.load(files.map(\.bytes), validation: .full) { ChangeGraph() }
        guard !outcome.loaded.isEmpty else {
            throw .corrupt(documentId: id.string, detail: outcome.lastError.map { "\($0)" } ?? "no file loads")
        }
        let kept = outcome.loaded.map { files[$0] }
        let skipped = outcome.skipped.map { files[$0].path }
        let bytes = kept.flatMap(\.bytes)
        // The written file must load by itself, exactly as it will be read back.
        var check = ChangeGraph()
        do throws(AutomergeError) {
            try check.load(bytes, validation: .full)
        } catch {
            throw .corrupt(documentId: id.string, detail: "\(error)")
        }
        return Export(
            bytes: bytes,
            snapshotFiles: kept.filter { $0.kind == .snapshot }.count,
            incrementalFiles: kept.filter { $0.kind == .incremental }.count,
            skippedFiles: skipped,
            heads: check.heads,
            changeCount: check.count,
            changesWithMissingDependencies: check.queuedCount
        )
    }
}
