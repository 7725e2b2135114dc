import AutomergeCore
import AutomergeRepo
import BenchmarkClients
import Foundation
import GroundmistSync
import Logging
import Synchronization
import Testing

@testable import groundmist_sync

#if canImport(Glibc)
import Glibc
import TestSupport
#endif

/// Issue 13: `kill -9` of the real server, again and again at random moments, while several clients
/// write to several documents. The documents are small, so (with the server's batched compaction
/// policy) one is compacted every 32 or so saves, and many kills land in a compaction (issue 10). After every kill: each change a client saw acknowledged
/// is on disk, every stored file reads, the layout is NodeFS's; the next start (which must succeed)
/// is the check that nothing left behind trips it. Rounds alternate the two flush modes.
///
/// `GROUNDMIST_KILL_ROUNDS` sets the number of rounds (default 50).
@Suite struct KillLoopTests {
    static let clients = 3
    static let documents = 4

    /// Everything the clients made and everything the server acknowledged, across rounds.
    final class Ledger: Sendable {
        /// Each writer's chain of changes ((client, document) → chunks), acknowledged or not.
        let chains = Mutex<[Int: [ChangeChunk]]>([:])
        let acknowledged = Mutex<[DocumentId: Set<ChangeHash>]>([:])
    }

    @Test(.timeLimit(.minutes(10))) func acknowledgedChangesSurviveKillNine() async throws {
        let rounds = ProcessInfo.processInfo.environment["GROUNDMIST_KILL_ROUNDS"].flatMap(Int.init) ?? 50
        let directory = try temporaryDirectory("kill-loop")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data")
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("groundmist-sync")
        let documents = (0..<Self.documents).map { _ in DocumentId.random() }
        let ledger = Ledger()
        var killsDuringWrites = 0
        var roundsWithCompaction = 0
        var lastSnapshots: Set<String> = []

        for round in 0..<rounds {
            let mode = round.isMultiple(of: 2) ? "files" : "syncfs"
            let (server, port) = try await Self.start(binary, data: data, workingDirectory: directory, flush: mode)
            let before = ledger.acknowledged.withLock { $0.values.reduce(0) { $0 + $1.count } }
            let writers = Task { await Self.write(url: "ws://127.0.0.1:\(port)", documents: documents, ledger: ledger) }
            // The kill lands at a random moment after this round's first acknowledgement (however slow
            // a loaded machine makes the start); every fifth round, after a compaction has also finished,
            // so the next kills meet compactions under way (they wait 500 ms once due).
            await Self.waitUntil { ledger.acknowledged.withLock { $0.values.reduce(0) { $0 + $1.count } } > before }
            if round.isMultiple(of: 5) {
                await Self.waitUntil { Self.snapshotNames(data: data, documents: documents) != lastSnapshots }
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...1000)))
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
            writers.cancel()
            await writers.value
            let after = ledger.acknowledged.withLock { $0.values.reduce(0) { $0 + $1.count } }
            if after > before { killsDuringWrites += 1 }
            let snapshots = try await Self.check(data: data, documents: documents, ledger: ledger, round: round)
            if snapshots != lastSnapshots { roundsWithCompaction += 1 }
            lastSnapshots = snapshots
        }
        // A clean start over what the last kill left, and a clean stop: nothing stays in `.tmp`.
        let (server, _) = try await Self.start(binary, data: data, workingDirectory: directory, flush: "files")
        server.terminate()
        server.waitUntilExit()
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent(".tmp").path)) ?? []
        #expect(leftovers.isEmpty, "temporary files left after a clean start: \(leftovers)")
        let total = ledger.acknowledged.withLock { $0.values.reduce(0) { $0 + $1.count } }
        print(
            "kill loop: \(rounds) rounds, \(killsDuringWrites) killed mid-write, \(roundsWithCompaction) with a compaction, "
                + "\(total) acknowledged changes all on disk"
        )
        #expect(killsDuringWrites >= rounds / 2, "most kills should land while clients write")
        #expect(roundsWithCompaction >= rounds / 10, "compactions should run (and be killed) during the loop")
        #expect(total > rounds)
    }

    /// Polls until `condition` holds, for at most 30 s (the assertions after the loop catch a round
    /// that never got there).
    static func waitUntil(_ condition: () -> Bool) async {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition(), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
    }

    /// The documents' snapshot files in the live data directory, as `check` names them.
    static func snapshotNames(data: URL, documents: [DocumentId]) -> Set<String> {
        var names: Set<String> = []
        for document in documents {
            let folder = data.appendingPathComponent(StorageKey.prefix(document).relativePath).appendingPathComponent("snapshot")
            let found = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            names.formUnion(found.filter { NodeFSKeyHash.isHashName($0) }.map { "\(document)/\($0)" })
        }
        return names
    }

    static func start(_ binary: URL, data: URL, workingDirectory: URL, flush: String) async throws -> (Process, Int) {
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = Int.random(in: 20000...60000)
            let server = Process()
            server.executableURL = binary
            server.arguments = ["serve", "--port", "\(port)", "--data-dir", data.path, "--share-policy", "requests"]
            server.environment = ["LOG_LEVEL": "warning", "PATH": "/usr/bin:/bin", "GROUNDMIST_STORAGE_FLUSH": flush]
            server.currentDirectoryURL = workingDirectory
            server.standardOutput = FileHandle.nullDevice
            server.standardError = FileHandle.nullDevice
            try server.run()
            do {
                try await waitForListener(port: port, process: server)
                return (server, port)
            } catch {
                // A busy port; a start that trips on leftovers fails every attempt.
                lastError = error
                if server.isRunning { kill(server.processIdentifier, SIGKILL) }
                server.waitUntilExit()
            }
        }
        throw lastError ?? CocoaError(.featureUnsupported)
    }

    /// Every client writes to every document, one change per round trip, until cancelled.
    static func write(url: String, documents: [DocumentId], ledger: Ledger) async {
        let logger = {
            var logger = Logger(label: "kill-loop")
            logger.logLevel = .critical
            return logger
        }()
        await withTaskGroup(of: Void.self) { group in
            for client in 0..<clients {
                group.addTask {
                    let endpoint = RepoClient(peerId: "writer-\(client)-\(UUID().uuidString.prefix(8))", storageId: "writer-\(client)")
                    let connection = Task { _ = try? await RepoWebSocketClient(url: url, endpoint: endpoint, logger: logger).run() }
                    defer { connection.cancel() }
                    while await !endpoint.isJoined {
                        if Task.isCancelled { return }
                        try? await Task.sleep(for: .milliseconds(5))
                    }
                    await withTaskGroup(of: Void.self) { writers in
                        for (number, document) in documents.enumerated() {
                            writers.addTask {
                                await writeChain(client: client, number: number, document: document, endpoint: endpoint, ledger: ledger)
                            }
                        }
                    }
                }
            }
        }
    }

    static func writeChain(client: Int, number: Int, document: DocumentId, endpoint: RepoClient, ledger: Ledger) async {
        let writer = client * documents + number
        let actor = ActorId((0..<16).map { UInt8(truncatingIfNeeded: $0 &+ writer &* 17 &+ 1) })
        // What this writer made before (acknowledged or not): the server gets whatever it lacks.
        let previous = ledger.chains.withLock { $0[writer] ?? [] }
        if !previous.isEmpty { try? await endpoint.apply(previous, to: document) }
        while !Task.isCancelled {
            let chain = ledger.chains.withLock { $0[writer] ?? [] }
            let seq = UInt64(chain.count + 1)
            let chunk = Change(
                deps: chain.last.map { [$0.hash] } ?? [],
                actor: actor,
                seq: seq,
                startOp: seq,
                ops: [Op(object: .root, key: .map("w\(writer)"), action: .put, value: .int(Int64(seq)))]
            ).encodeChunk()
            ledger.chains.withLock { $0[writer, default: []].append(chunk) }
            do {
                try await endpoint.apply([chunk], to: document)
                try await endpoint.waitUntilServerHas([chunk.hash], in: document)
            } catch {
                return
            }
            ledger.acknowledged.withLock { _ = $0[document, default: []].insert(chunk.hash) }
        }
    }

    /// The data directory as the killed server left it: every acknowledged change loads, every
    /// chunk file reads, and the documents' files have NodeFS names.
    /// Returns the snapshot files found (a new one means a compaction finished in the round).
    @discardableResult
    static func check(data: URL, documents: [DocumentId], ledger: Ledger, round: Int) async throws -> Set<String> {
        var snapshots: Set<String> = []
        // Read a copy: opening storage removes `.tmp` leftovers, which the next server start must meet.
        let copy = data.deletingLastPathComponent().appendingPathComponent("check-\(round)")
        try FileManager.default.copyItem(at: data, to: copy)
        defer { try? FileManager.default.removeItem(at: copy) }
        let store = DocumentStore(storage: try NodeFSStorage(directory: copy), gate: CompactionGate())
        for document in documents {
            let acknowledged = ledger.acknowledged.withLock { $0[document] ?? [] }
            let loaded = try await store.load(document)
            let graph = loaded?.graph ?? ChangeGraph()
            #expect(loaded?.unreadableChunks.isEmpty != false, "round \(round): unreadable chunks \(loaded?.unreadableChunks ?? [])")
            let stored = Set(graph.allHashes)
            let missing = acknowledged.subtracting(stored)
            #expect(missing.isEmpty, "round \(round): \(missing.count) acknowledged change(s) of \(document) lost")
            let folder = copy.appendingPathComponent(StorageKey.prefix(document).relativePath)
            for kind in ["snapshot", "incremental"] {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent(kind).path)) ?? []
                for name in names { #expect(NodeFSKeyHash.isHashName(name), "round \(round): \(kind)/\(name)") }
                if kind == "snapshot" { snapshots.formUnion(names.map { "\(document)/\($0)" }) }
            }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            #expect(Set(entries).isSubset(of: ["snapshot", "incremental", "sync-state"]), "round \(round): \(entries)")
        }
        return snapshots
    }
}
