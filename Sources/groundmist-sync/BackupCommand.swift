import ArgumentParser
import Foundation
import GroundmistSync

/// `groundmist-sync backup -o FILE.tar`: a consistent copy of the data directory while the server runs.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write the data directory (documents, root documents, sessions) to a tar file; safe while the server runs.",
        discussion: """
            Each document is copied as a state it really had: the server only ever creates files by \
            renaming finished ones into place, so a document whose files change during the copy is \
            simply copied again. The archive is written to a temporary file beside FILE and renamed \
            when complete. Restore it with `groundmist-sync restore FILE --data-dir DIR`. The .env \
            file (your secret) is not part of it: back that up separately.
            """
    )

    /// The first entry of every backup; `restore` refuses archives without it.
    static let markerPath = "GROUNDMIST-BACKUP"

    @Option(name: [.short, .customLong("output")], help: "The tar file to write (- for standard output).")
    var output: String

    @Option(name: .customLong("data-dir"), help: "The server's data directory. Overrides DATA_DIR (default .data).")
    var dataDirectory: String?

    func run() throws {
        let root = try resolveDataDirectory(dataDirectory)
        let now = Int(Date().timeIntervalSince1970)
        let handle: FileHandle
        var temporary: String?
        if output == "-" {
            handle = FileHandle.standardOutput
        } else {
            let path = output + ".partial-\(getpid())"
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
                let opened = FileHandle(forWritingAtPath: path)
            else {
                printError("cannot create \(path)")
                throw ExitCode.failure
            }
            handle = opened
            temporary = path
        }
        let summary: DataDirectoryCopier.Summary
        do {
            let writer = TarWriter { bytes in try handle.write(contentsOf: Data(bytes)) }
            let marker = "groundmist-sync backup\nversion \(GroundmistVersion.current)\ncreated \(now)\ndata-dir \(root)\n"
            try writer.append(.init(path: Self.markerPath, kind: .file, mode: 0o640, modificationTime: now, bytes: Array(marker.utf8)))
            summary = try DataDirectoryCopier(root: root).copy { file in
                try writer.append(.init(path: file.path, kind: .file, mode: file.mode, modificationTime: now, bytes: file.bytes))
            }
            try writer.finish()
            if let temporary {
                try handle.synchronize()
                try handle.close()
                guard rename(temporary, output) == 0 else {
                    throw BackupFailure(description: "cannot rename \(temporary) to \(output): \(String(cString: strerror(errno)))")
                }
            }
        } catch {
            if let temporary {
                try? handle.close()
                try? FileManager.default.removeItem(atPath: temporary)
            }
            printError("backup failed: \(error)")
            throw ExitCode.failure
        }
        printError(
            "backed up \(root) to \(output): \(summary.documents) documents, \(summary.files) files, \(summary.bytes) bytes"
                + (summary.retries > 0 ? " (\(summary.retries) documents copied again because they changed meanwhile)" : "")
        )
    }
}

struct BackupFailure: Error, CustomStringConvertible {
    let description: String
}

/// `--data-dir`, else `DATA_DIR` from the environment or `.env`, else the server's default.
func resolveDataDirectory(_ flag: String?) throws -> String {
    if let flag {
        guard !flag.isEmpty else { throw ValidationError("--data-dir must not be empty") }
        return flag
    }
    do {
        return try CommandEnvironment.load()["DATA_DIR"] ?? ServerConfiguration.defaultDataDirectory
    } catch {
        throw ValidationError("cannot read .env: \(error)")
    }
}
