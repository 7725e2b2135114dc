import AutomergeCore
import AutomergeRepo
import Foundation

/// Reads one document's stored chunks from a NodeFS-layout repo directory and joins them into a
/// single `.automerge` file (snapshots first, then incrementals: the concatenation the repo itself
/// loads), checked with `ChangeGraph` before anyone writes it out.
///
/// Strictly read-only: it does not open the directory through `NodeFSStorage`, which creates
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
        let documentDirectory = StorageKey.prefix(id).pathComponents.reduce(directory) {
            $0.appendingPathComponent($1, isDirectory: true)
        }
        var files: [(path: String, kind: StorageChunkKind, bytes: [UInt8])] = []
        for kind in [StorageChunkKind.snapshot, .incremental] {
            let folder = documentDirectory.appendingPathComponent(kind.rawValue, isDirectory: true)
            // Sorted like the storage layer's `loadRange`, so the output is deterministic.
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
                .filter(NodeFSKeyHash.isHashName).sorted()
            for name in names {
                let file = folder.appendingPathComponent(name)
                guard let data = FileManager.default.contents(atPath: file.path) else { throw .unreadableFile(file.path) }
                files.append((file.path, kind, [UInt8](data)))
            }
        }
        guard !files.isEmpty else { throw .notFound(documentId: id.string, directory: directory.path) }

        var graph = ChangeGraph()
        var kept = files
        var skipped: [String] = []
        do throws(AutomergeError) {
            // Full validation: the file is meant for other tools, which decode every op.
            try graph.load(files.flatMap(\.bytes), validation: .full)
        } catch {
            // As the repo does on load: leave out the files that do not load on their own.
            graph = ChangeGraph()
            kept = []
            var lastError = error
            for file in files {
                do throws(AutomergeError) {
                    try graph.load(file.bytes, validation: .full)
                    kept.append(file)
                } catch {
                    skipped.append(file.path)
                    lastError = error
                }
            }
            guard !kept.isEmpty else { throw .corrupt(documentId: id.string, detail: "\(lastError)") }
        }
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
