import ArgumentParser
import AutomergeCore
import AutomergeRepo
import Foundation
import GroundmistSync

/// `groundmist-sync restore FILE.tar --data-dir DIR`: unpacks a backup into an empty directory and
/// checks that every document in it loads.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup into a new or empty data directory, then check that every document loads.",
        discussion: """
            Refuses to write into a directory that has anything in it: stop the server and move the \
            old data directory aside first. Run it as the user the server runs as (e.g. sudo -u \
            groundmist), or chown the directory afterwards, so the server can write there.
            """
    )

    @Argument(help: "The tar file written by `groundmist-sync backup`.")
    var archive: String

    @Option(name: .customLong("data-dir"), help: "Where to restore. Overrides DATA_DIR (default .data).")
    var dataDirectory: String?

    func run() throws {
        let root = try resolveDataDirectory(dataDirectory)
        if let existing = try? FileManager.default.contentsOfDirectory(atPath: root), !existing.isEmpty {
            printError("\(root) is not empty: restore only into a new or empty directory (stop the server and move the old one aside)")
            throw ExitCode.failure
        }
        let entries: [TarArchive.Entry]
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: archive), options: .alwaysMapped)
            entries = try TarReader(bytes: [UInt8](data)).entries()
        } catch let failure as TarArchive.Failure {
            printError("cannot restore \(archive): \(failure)")
            throw ExitCode.failure
        } catch {
            printError("cannot read \(archive): \(error.localizedDescription)")
            throw ExitCode.failure
        }
        guard entries.first?.path == BackupCommand.markerPath else {
            printError("\(archive) is not a groundmist-sync backup (it does not start with \(BackupCommand.markerPath))")
            throw ExitCode.failure
        }
        let manager = FileManager.default
        let createdRoot = !manager.fileExists(atPath: root)
        var files = 0
        do {
            try manager.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
            for entry in entries.dropFirst() {
                let path = root + "/" + entry.path
                switch entry.kind {
                case .directory:
                    try manager.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
                case .file:
                    let parent = (path as NSString).deletingLastPathComponent
                    try manager.createDirectory(atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
                    guard manager.createFile(atPath: path, contents: Data(entry.bytes), attributes: [.posixPermissions: Int(entry.mode & 0o777)])
                    else { throw BackupFailure(description: "cannot write \(path)") }
                    files += 1
                }
            }
            sync()
        } catch {
            // The directory was empty: leave it as it was rather than half restored.
            for name in (try? manager.contentsOfDirectory(atPath: root)) ?? [] { try? manager.removeItem(atPath: root + "/" + name) }
            if createdRoot { try? manager.removeItem(atPath: root) }
            printError("restore failed, nothing kept: \(error)")
            throw ExitCode.failure
        }
        let check = RestoredDocuments.check(root: root)
        printError("restored \(files) files into \(root): \(check.loaded) documents load")
        for problem in check.problems { printError("warning: \(problem)") }
        if !check.problems.isEmpty { throw ExitCode.failure }
    }
}

/// Loads every document of a data directory, to confirm a restore.
enum RestoredDocuments {
    struct Check {
        var loaded = 0
        var problems: [String] = []
        /// Document path (relative to the data directory) → heads, hex.
        var heads: [String: [String]] = [:]
    }

    static func check(root: String) -> Check {
        var check = Check()
        visit(root: root, relative: "", check: &check)
        return check
    }

    private static func visit(root: String, relative: String, check: inout Check) {
        let path = relative.isEmpty ? root : root + "/" + relative
        guard let names = try? PosixFiles.list(path) else { return }
        if names.contains("snapshot") || names.contains("incremental") {
            // <group directory>/<first 2 characters>/<rest of the id>
            let parts = relative.split(separator: "/").map(String.init)
            guard parts.count >= 2 else { return }
            let group = ([root] + parts.dropLast(2)).joined(separator: "/")
            do {
                let id = try DocumentId(parts[parts.count - 2] + parts[parts.count - 1])
                let export = try DocumentExporter(directory: URL(fileURLWithPath: group, isDirectory: true)).export(id)
                if !export.skippedFiles.isEmpty || export.changesWithMissingDependencies > 0 {
                    check.problems.append(
                        "document \(relative) is incomplete: \(export.skippedFiles.count) unreadable files, "
                            + "\(export.changesWithMissingDependencies) changes missing dependencies"
                    )
                } else {
                    check.loaded += 1
                }
                check.heads[relative] = export.heads.map(\.hex).sorted()
            } catch {
                check.problems.append("document \(relative) does not load: \(error)")
            }
            return
        }
        for name in names where name != ".tmp" {
            let child = relative.isEmpty ? name : relative + "/" + name
            if (try? PosixFiles.kind(root + "/" + child)) == .directory { visit(root: root, relative: child, check: &check) }
        }
    }
}
