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
            DATA_DIR/xyz/groundmist/library.
            """
    )

    /// Output formats. A materialised `--json` view is planned: add a case here and a renderer in
    /// `render(_:)`; the stored chunks are already gathered and checked by `DocumentExporter`.
    enum Format {
        case automerge
    }

    @Argument(help: "The document id (as in automerge:<id>) or its automerge: URL.")
    var document: String

    @Option(help: "The lexicon group the document belongs to, e.g. xyz.groundmist.library.")
    var group: String?

    @Option(name: [.short, .customLong("output")], help: "Where to write the file (default: <id>.automerge; - for stdout).")
    var output: String?

    @Option(name: .customLong("data-dir"), help: "The server's data directory. Overrides DATA_DIR (default .data).")
    var dataDirectory: String?

    var format: Format { .automerge }

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
        let bytes = render(export)
        let destination = output ?? "\(id.string).automerge"
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

    func render(_ export: DocumentExporter.Export) -> [UInt8] {
        switch format {
        case .automerge: export.bytes
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
