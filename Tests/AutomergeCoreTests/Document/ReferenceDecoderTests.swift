import Foundation
import Testing

@testable import AutomergeCore

/// Documents written by our engine, loaded by an independent decoder: the Python binding
/// `automerge==0.1.2` (Rust automerge underneath), which `.ci/run` installs in a venv and names
/// in `GROUNDMIST_REFERENCE_PYTHON`. Without it the suite is skipped.
private let referencePython = ProcessInfo.processInfo.environment["GROUNDMIST_REFERENCE_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }

@Suite(
    .enabled(
        if: referencePython != nil,
        "set GROUNDMIST_REFERENCE_PYTHON to a python with automerge==0.1.2 (.ci/run does) to run the reference-decoder test"
    )
)
struct ReferenceDecoderTests {
    static let python = referencePython
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Interop/reference_decoder.py")

    /// Runs the script over a directory; returns its verdicts and lines by document name.
    static func decode(_ directory: URL) throws -> (verdicts: [String: String], lines: [String: String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(python))
        process.arguments = [script.path, directory.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var results: [String: String] = [:]
        var lines: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let name = parts[1].prefix { $0 != ":" }
            results[String(name)] = String(parts[0])
            lines[String(name)] = String(line)
        }
        return (results, lines)
    }

    static func write(_ bytes: [UInt8], _ url: URL) throws { try Data(bytes).write(to: url) }

    @Test func documentsWeWriteLoadWithTheSameContent() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reference-decoder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var expectedOK: Set<String> = []
        var mayBeUnsupported: Set<String> = []

        func add(_ name: String, graph: ChangeGraph, reference: [UInt8]?) throws {
            let opSet = try graph.makeOpSet()
            try Self.write(try graph.save(opSet: opSet), directory.appendingPathComponent("\(name).automerge"))
            try Self.write(Array(opSet.json().serialized().utf8), directory.appendingPathComponent("\(name).json"))
            if let reference {
                try Self.write(reference, directory.appendingPathComponent("\(name).reference.automerge"))
                mayBeUnsupported.insert(name)
            } else {
                expectedOK.insert(name)
            }
        }

        // Random documents edited through our own API (no marks: 0.1.2 predates them). One
        // actor: the content must be our JSON. Two concurrent actors: 0.1.2 orders some concurrent
        // edits differently from current Automerge, so it must read our document as it reads the
        // change chunks the document was made from.
        for seed in 0..<8 {
            var rng = EnginePropertyTests.SplitMix(state: UInt64(seed) &* 7 &+ 11)
            let concurrent = seed % 2 == 1
            var peers = [AutomergeDocument(actor: EnginePropertyTests.actor(1)), AutomergeDocument(actor: EnginePropertyTests.actor(2))]
            try peers[0].putObject(.root, key: "list", .list)
            let text = try peers[0].putObject(.root, key: "text", .text)
            try peers[0].splice(text, at: 0, delete: 0, insert: "héllo 🇬🇧")
            try peers[0].put(.root, key: "counter", .counter(3))
            let committed = peers[0].commit(time: 1)
            try peers[1].apply([try #require(committed)])
            for round in 0..<4 {
                for index in concurrent ? [0, 1] : [0] {
                    for _ in 0..<4 { try EnginePropertyTests.edit(&peers[index], &rng) }
                    peers[index].commit(time: Int64(round + 2))
                }
                try peers[1].apply(peers[0].changes(since: peers[1].heads))
                try peers[0].apply(peers[1].changes(since: peers[0].heads))
            }
            try add("random-\(seed)", graph: peers[0].graph, reference: concurrent ? peers[0].changes.flatMap(\.bytes) : nil)
            if concurrent { expectedOK.insert("random-\(seed)") }
        }

        // The reference's documents, replayed from their changes and written by us.
        if Fixtures.available {
            for name in Fixtures.files(in: "generated", suffix: ".changes").map({ String($0.dropLast(".changes".count)) }) {
                var graph = ChangeGraph()
                try graph.load(try Fixtures.bytes(name + ".changes"))
                try add(
                    (name as NSString).lastPathComponent,
                    graph: graph,
                    reference: try Fixtures.bytes(name + ".automerge")
                )
            }
            for path in ["upstream/monday-meeting-notes.automerge", "upstream/exemplar", "upstream/stephen.amrg"] {
                var graph = ChangeGraph()
                try graph.load(try Fixtures.bytes(path))
                try add(
                    (path as NSString).lastPathComponent.replacingOccurrences(of: ".", with: "-"),
                    graph: graph,
                    reference: try Fixtures.bytes(path)
                )
            }
        }

        // The check itself can fail: one document's JSON is tampered with.
        var tampered = AutomergeDocument(actor: EnginePropertyTests.actor(3))
        try tampered.put(.root, key: "answer", .int(42))
        tampered.commit()
        try Self.write(try tampered.save(), directory.appendingPathComponent("tampered.automerge"))
        try Self.write(Array("{\n  \"answer\": 43\n}\n".utf8), directory.appendingPathComponent("tampered.json"))

        let (results, lines) = try Self.decode(directory)
        #expect(results["tampered"] == "mismatch")
        for name in expectedOK { #expect(results[name] == "ok", "\(lines[name] ?? "\(name): no result")") }
        for name in mayBeUnsupported {
            #expect(results[name] == "ok" || results[name] == "unsupported", "\(lines[name] ?? "\(name): no result")")
        }
        let okCount = results.values.filter { $0 == "ok" }.count
        #expect(okCount >= expectedOK.count + (Fixtures.available ? 12 : 0), "\(results)")
    }
}
