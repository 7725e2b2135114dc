import Foundation

/// Copies a data directory that a running server is writing, one consistent piece at a time.
///
/// What makes this safe is how the server writes (`NodeFSStorage`, `DurableFile`): every file is
/// created whole in a temporary place and renamed into position, so a file is never seen half
/// written; chunk files are named by their content and never change; compaction first renames the
/// new snapshot in and only then deletes the chunks it replaces. So a document directory
/// (`<group>/<2 chars>/<rest of id>/{snapshot,incremental,sync-state}`) is copied by listing it,
/// reading every listed file, and listing it again: if a file vanished meanwhile, or the two
/// listings differ, the server changed the document during the copy and the piece is copied again.
/// When both listings agree and every file was read, the copy is a state the document really had.
/// State files outside documents (the sessions, the root-document registry, the storage id) are
/// single files replaced by rename: reading one gives one whole version.
///
/// Documents are independent, so each is consistent on its own; different documents (and state
/// files) are taken one after another. Temporary files (`.tmp/`, `*.tmp-*`) are left out.
struct DataDirectoryCopier {
    /// The folders that mark a document directory.
    static let documentFolders: Set<String> = ["snapshot", "incremental", "sync-state"]

    let root: String
    /// How often one document may change under the copy before the backup gives up.
    var maximumAttempts = 200

    struct File {
        var path: String
        var bytes: [UInt8]
        var mode: UInt32
    }

    enum Failure: Error, CustomStringConvertible {
        case notADirectory(String)
        case busy(String, attempts: Int)

        var description: String {
            switch self {
            case .notADirectory(let path): "\(path) is not a directory (check --data-dir or DATA_DIR)"
            case .busy(let path, let attempts):
                "\(path) changed during each of \(attempts) attempts to copy it; try again when the server is less busy"
            }
        }
    }

    /// Statistics of one copy.
    struct Summary {
        var files = 0
        var bytes = 0
        var documents = 0
        /// Pieces copied again because the server changed them meanwhile.
        var retries = 0
    }

    static func isTemporary(_ name: String) -> Bool { name == ".tmp" || name.contains(".tmp-") }

    /// Calls `emit` with every file (paths relative to `root`), a document's files together.
    func copy(_ emit: (File) throws -> Void) throws -> Summary {
        guard try PosixFiles.kind(root) == .directory else { throw Failure.notADirectory(root) }
        var summary = Summary()
        try walk("", emit: emit, summary: &summary)
        return summary
    }

    private func absolute(_ relative: String) -> String { relative.isEmpty ? root : root + "/" + relative }

    private func join(_ relative: String, _ name: String) -> String { relative.isEmpty ? name : relative + "/" + name }

    private func walk(_ relative: String, emit: (File) throws -> Void, summary: inout Summary) throws {
        guard let names = try PosixFiles.list(absolute(relative)) else { return }
        if names.contains(where: Self.documentFolders.contains) {
            let files = try copyDocument(relative, summary: &summary)
            summary.documents += 1
            for file in files { try emit(file) }
            return
        }
        for name in names where !Self.isTemporary(name) {
            let child = join(relative, name)
            switch try PosixFiles.kind(absolute(child)) {
            case .directory:
                try walk(child, emit: emit, summary: &summary)
            case .file:
                // Replaced by rename, so one read is one version; gone means deleted.
                guard let bytes = try PosixFiles.read(absolute(child)) else { continue }
                summary.files += 1
                summary.bytes += bytes.count
                try emit(File(path: child, bytes: bytes, mode: 0o640))
            case .other, nil:
                continue
            }
        }
    }

    /// One document directory, copied until a listing, the reads and a second listing agree.
    private func copyDocument(_ relative: String, summary: inout Summary) throws -> [File] {
        for attempt in 1...maximumAttempts {
            if attempt > 1 {
                summary.retries += 1
                Thread.sleep(forTimeInterval: min(0.2, 0.005 * Double(attempt)))
            }
            let before = try listing(relative)
            var files: [File] = []
            var vanished = false
            for path in before {
                guard let bytes = try PosixFiles.read(absolute(path)) else {
                    vanished = true
                    break
                }
                files.append(File(path: path, bytes: bytes, mode: 0o640))
            }
            if vanished { continue }
            guard try listing(relative) == before else { continue }
            summary.files += files.count
            summary.bytes += files.reduce(0) { $0 + $1.bytes.count }
            return files
        }
        throw Failure.busy(absolute(relative), attempts: maximumAttempts)
    }

    /// Every regular file below a document directory, sorted, temporary files left out.
    private func listing(_ relative: String) throws -> [String] {
        var result: [String] = []
        guard let names = try PosixFiles.list(absolute(relative)) else { return [] }
        for name in names where !Self.isTemporary(name) {
            let child = join(relative, name)
            switch try PosixFiles.kind(absolute(child)) {
            case .directory: result += try listing(child)
            case .file: result.append(child)
            case .other, nil: continue
            }
        }
        return result
    }
}
