import AutomergeCore
import AutomergeRepo
import Foundation
import GroundmistSync
import TestSupport
import Testing

@testable import groundmist_sync

private let nodefs = SharedFixtures.folder("automerge/nodefs")
private let nodefsPresent = SharedFixtures.isAvailable("automerge/nodefs", marker: "manifest.json")

/// The document the reference server wrote one snapshot and 15 incrementals for (manifest.json).
private let editedDocument = "YRbxpUBhDLfET29jGo72JpFTE7T"
private let editedHeads = ["1f72d75afd78895308cd3dfa2eca8f72b7bab484a8948ff7211f812830b5b572"]

struct CommandResult: Sendable {
    let status: Int32
    let stdout: [UInt8]
    let stderr: String
}

/// Runs the built executable (built beside the test bundle by `swift test`).
func runCLI(_ arguments: [String], environment: [String: String]? = nil, directory: URL? = nil) throws -> CommandResult {
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("groundmist-sync")
    try #require(FileManager.default.isExecutableFile(atPath: binary.path), "swift test builds the executable beside the test bundle")
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let directory { process.currentDirectoryURL = directory }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Read before waiting: a full pipe would block the child.
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, stdout: [UInt8](stdout), stderr: String(decoding: stderr, as: UTF8.self))
}

/// `runCLI` off the cooperative pool, for tests whose loopback servers need that pool meanwhile.
func runCLIAsync(_ arguments: [String], environment: [String: String]? = nil, directory: URL? = nil) async throws -> CommandResult {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try runCLI(arguments, environment: environment, directory: directory) })
        }
    }
}

@Suite struct ExportTests {
    @Test func groupsMapToNestedFolders() throws {
        let url = try GroupDirectory.directory(dataDirectory: "/srv/data", group: "xyz.groundmist.library")
        #expect(url.path == "/srv/data/xyz/groundmist/library")
        #expect(try GroupDirectory.directory(dataDirectory: "/srv/data", group: nil).path == "/srv/data")
        #expect(
            try GroupDirectory.directory(dataDirectory: "/srv/data", group: "XYZ.Groundmist.Notebook.essay").path
                == "/srv/data/xyz/groundmist/notebook/essay"
        )
        for bad in ["", "xyz", "xyz..library", "../etc", "xyz/groundmist", "xyz.groundmist.", ".xyz", "a b.c", "ünïcode.x"] {
            #expect(throws: GroupDirectory.InvalidGroup.self, "\(bad)") {
                try GroupDirectory.directory(dataDirectory: "/srv/data", group: bad)
            }
        }
    }

    @Test(.enabled(if: nodefsPresent, "needs ../shared/fixtures"))
    func exportsTheReferenceServersChunksAsOneLoadableFile() throws {
        let data = nodefs.appendingPathComponent("data")
        let export = try DocumentExporter(directory: data).export(try DocumentId(editedDocument))
        #expect(export.snapshotFiles == 1)
        #expect(export.incrementalFiles == 15)
        #expect(export.skippedFiles.isEmpty)
        #expect(export.changeCount == 41)
        #expect(export.heads.map(\.hex) == editedHeads)
        // The output is exactly the stored files, snapshot first: nothing re-encoded.
        let documentFolder = data.appendingPathComponent("YR/bxpUBhDLfET29jGo72JpFTE7T")
        let snapshot = try FileManager.default.contentsOfDirectory(atPath: documentFolder.appendingPathComponent("snapshot").path)
        let first = try Data(contentsOf: documentFolder.appendingPathComponent("snapshot/\(snapshot[0])"))
        #expect(Array(export.bytes.prefix(first.count)) == [UInt8](first))
        var graph = ChangeGraph()
        try graph.load(export.bytes)
        #expect(graph.count == 41 && graph.queuedCount == 0)
    }

    @Test(.enabled(if: nodefsPresent, "needs ../shared/fixtures"))
    func theExecutableExportsFromAGroupFolderWithoutTouchingTheDataDirectory() throws {
        let work = try temporaryDirectory("export")
        defer { try? FileManager.default.removeItem(at: work) }
        let dataDirectory = work.appendingPathComponent("data")
        let group = dataDirectory.appendingPathComponent("xyz/groundmist/library")
        try FileManager.default.createDirectory(at: group.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: nodefs.appendingPathComponent("data"), to: group)
        let output = work.appendingPathComponent("out.automerge")

        let result = try runCLI([
            "export", "--group", "xyz.groundmist.library", "automerge:\(editedDocument)", "-o", output.path,
            "--data-dir", dataDirectory.path,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("41 changes from 1 snapshot and 15 incremental files"))
        var graph = ChangeGraph()
        try graph.load([UInt8](try Data(contentsOf: output)))
        #expect(graph.heads.map(\.hex) == editedHeads)
        // Read-only: no `.tmp` folder or anything else created in the repo directory.
        #expect(!FileManager.default.fileExists(atPath: group.appendingPathComponent(".tmp").path))

        // The same document is not in the root repo: a clear error, no output file.
        let missing = work.appendingPathComponent("missing.automerge")
        let notFound = try runCLI(["export", editedDocument, "-o", missing.path, "--data-dir", dataDirectory.path])
        #expect(notFound.status == 1)
        #expect(notFound.stderr.contains("document \(editedDocument) is not stored in"))
        #expect(!FileManager.default.fileExists(atPath: missing.path))
    }

    /// `--json` prints what the reference server's client saw in the document (manifest
    /// `content`); `--compact` writes one document chunk that loads to the same heads.
    @Test(.enabled(if: nodefsPresent, "needs ../shared/fixtures"))
    func jsonAndCompactViewsOfAStoredDocument() throws {
        let environment = ["DATA_DIR": nodefs.appendingPathComponent("data").path]
        let json = try runCLI(["export", "--json", editedDocument], environment: environment)
        #expect(json.status == 0, "\(json.stderr)")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: nodefs.appendingPathComponent("manifest.json")))
        let server = try #require((manifest as? [String: Any])?["server"] as? [String: Any])
        let documents = try #require(server["documents"] as? [String: Any])
        let entry = try #require(documents[editedDocument] as? [String: Any])
        let expected = try #require(entry["content"] as? NSDictionary)
        let printed = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout)) as? NSDictionary)
        #expect(printed == expected)

        let compact = try runCLI(["export", "--compact", editedDocument, "-o", "-"], environment: environment)
        #expect(compact.status == 0, "\(compact.stderr)")
        #expect(compact.stdout[8] == 0, "a document chunk")
        var graph = ChangeGraph()
        try graph.load(compact.stdout)
        #expect(graph.heads.map(\.hex) == editedHeads)
        #expect(graph.count == 41)
        let stored = try DocumentExporter(directory: nodefs.appendingPathComponent("data")).export(try DocumentId(editedDocument))
        #expect(compact.stdout.count < stored.bytes.count)

        let both = try runCLI(["export", "--json", "--compact", editedDocument], environment: environment)
        #expect(both.status != 0)
    }

    @Test(.enabled(if: nodefsPresent, "needs ../shared/fixtures"))
    func dataDirComesFromTheEnvironmentAndStdoutIsSupported() throws {
        let result = try runCLI(
            ["export", "tzZ8crvvVW9xnTBwrMG3aLMCQSw", "-o", "-"],
            environment: ["DATA_DIR": nodefs.appendingPathComponent("data").path]
        )
        #expect(result.status == 0, "\(result.stderr)")
        var graph = ChangeGraph()
        try graph.load(result.stdout)
        #expect(graph.heads.map(\.hex) == ["803162881f152170e0c33db6c4b0193dbbe5a5ad583478eab7330c9f05efce4e"])
    }

    @Test func unreadableChunksAreLeftOutAndAllUnreadableIsAnError() throws {
        let directory = try temporaryDirectory("export-corrupt")
        defer { try? FileManager.default.removeItem(at: directory) }
        let id = DocumentId.random()
        let actor = ActorId(Array(repeating: 0x11, count: 16))
        let good = Change(actor: actor, seq: 1, startOp: 1, ops: [Op(object: .root, key: .map("a"), action: .put, value: .int(1))])
            .encodeChunk()
        let incremental = directory.appendingPathComponent(StorageKey.prefix(id, .incremental).relativePath)
        try FileManager.default.createDirectory(at: incremental, withIntermediateDirectories: true)
        let truncated = Array(good.bytes.dropLast(3))
        try Data(truncated).write(to: incremental.appendingPathComponent(NodeFSKeyHash.incrementalName(for: truncated)))

        #expect(throws: DocumentExporter.ExportError.self) { try DocumentExporter(directory: directory).export(id) }

        try Data(good.bytes).write(to: incremental.appendingPathComponent(NodeFSKeyHash.incrementalName(for: good.bytes)))
        // Not a hash name: ignored like an editor backup.
        try Data([1, 2, 3]).write(to: incremental.appendingPathComponent("notes.txt"))
        let export = try DocumentExporter(directory: directory).export(id)
        #expect(export.bytes == good.bytes)
        #expect(export.skippedFiles.count == 1)
        #expect(export.heads == [good.hash])
    }

    @Test func malformedDocumentIdsAndGroupsAreUsageErrors() throws {
        let directory = try temporaryDirectory("export-usage")
        defer { try? FileManager.default.removeItem(at: directory) }
        let badId = try runCLI(["export", "not-a-document", "--data-dir", directory.path])
        #expect(badId.status == 64)
        #expect(badId.stderr.contains("is not an Automerge document id"))
        let badGroup = try runCLI(["export", DocumentId.random().string, "--group", "../x", "--data-dir", directory.path])
        #expect(badGroup.status == 64)
        #expect(badGroup.stderr.contains("invalid group"))
    }
}
