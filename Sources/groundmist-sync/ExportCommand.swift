import ArgumentParser
import AutomergeCore
import AutomergeRepo
import Foundation
import GroundmistSync

/// `groundmist-sync export`: one stored document as a single `.automerge` file.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write one stored document as a single loadable .automerge file.",
        discussion: """
            Joins the document's stored snapshot and incremental files (the NodeFS layout) into one \
            file that Automerge's load() accepts, after checking that it loads. Reads only; safe while \
            the server runs. Without --group it reads the repo at the root of the data directory \
            (where the local development mode stores documents); --group xyz.groundmist.library reads \
            DATA_DIR/xyz/groundmist/library. --json prints the document's content instead (as             Automerge's toJS shows it); --compact writes one compacted document, as Automerge's save()             does.
            """
    )

    /// Output formats; the stored chunks are gathered and checked by `DocumentExporter` first.
    enum Format {
        /// The stored chunks, concatenated (byte for byte what is on disk).
        case automerge
        /// One canonical document chunk, as the reference's `save()` writes it.
        case compacted
        /// The materialised JSON view.
        case json
    }

    @Argument(help: "The document id (as in automerge:<id>) or its automerge: URL.")
    var document: String

    @Option(help: "The lexicon group the document belongs to, e.g. xyz.groundmist.library.")
    var group: String?

    @Option(name: [.short, .customLong("output")], help: "Where to write the file (default: <id>.automerge; - for stdout).")
    var output: String?

    @Option(name: .customLong("data-dir"), help: "The server's data directory. Overrides DATA_DIR (default .data).")
    var dataDirectory: String?

    @Flag(help: "Print the document's content as JSON (to standard output unless -o is given).")
    var json = false

    @Flag(help: "Write one compacted document (Automerge's save()) instead of the stored chunks.")
    var compact = false

    var format: Format { json ? .json : compact ? .compacted : .automerge }

    func validate() throws {
        if json && compact { throw ValidationError("--json and --compact cannot be combined") }
    }

    func run() throws {
        let id: DocumentId
        do {
            id = document.hasPrefix(AutomergeURL.scheme) ? try AutomergeURL(document).documentId : try DocumentId(document)
        } catch {
            throw ValidationError("'\(document)' is not an Automerge document id: \(error)")
        }
        let root = try resolvedDataDirectory()
        let directory: URL
        do {
            directory = try GroupDirectory.directory(dataDirectory: root, group: group)
        } catch {
            throw ValidationError(error.description)
        }
        let export: DocumentExporter.Export
        do {
            export = try DocumentExporter(directory: directory).export(id)
        } catch {
            printError(error.description)
            throw ExitCode.failure
        }
        for skipped in export.skippedFiles { printError("warning: left out \(skipped): not a readable Automerge chunk") }
        if export.changesWithMissingDependencies > 0 {
            printError("warning: \(export.changesWithMissingDependencies) stored changes depend on changes that are not stored")
        }
        let bytes: [UInt8]
        do {
            bytes = try render(export)
        } catch {
            printError("cannot read the content of document \(id.string): \(error)")
            throw ExitCode.failure
        }
        let destination = output ?? (format == .json ? "-" : "\(id.string).automerge")
        if destination == "-" {
            FileHandle.standardOutput.write(Data(bytes))
            return
        }
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: destination), options: .atomic)
        } catch {
            printError("cannot write \(destination): \(error.localizedDescription)")
            throw ExitCode.failure
        }
        printError(
            "wrote \(destination): \(bytes.count) bytes, \(export.changeCount) changes from \(export.snapshotFiles) snapshot and "
                + "\(export.incrementalFiles) incremental files; heads \(export.heads.map(\.hex).joined(separator: ","))"
        )
    }

    func render(_ export: DocumentExporter.Export) throws(AutomergeError) -> [UInt8] {
        switch format {
        case .automerge:
            return export.bytes
        case .compacted:
            // Never edited here: any actor id will do.
            return try AutomergeDocument(loading: export.bytes, actor: ActorId([0])).save()
        case .json:
            return Array(try Inspector(includeChanges: false).materialize(bytes: export.bytes).utf8)
        }
    }

    /// `--data-dir`, else `DATA_DIR` from the environment or `.env`, else the server's default.
    private func resolvedDataDirectory() throws -> String {
        if let dataDirectory {
            guard !dataDirectory.isEmpty else { throw ValidationError("--data-dir must not be empty") }
            return dataDirectory
        }
        do {
            return try CommandEnvironment.load()["DATA_DIR"] ?? ServerConfiguration.defaultDataDirectory
        } catch {
            throw ValidationError("cannot read .env: \(error)")
        }
    }
}
