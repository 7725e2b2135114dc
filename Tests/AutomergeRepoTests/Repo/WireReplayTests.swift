import AutomergeCore
import ByteEncodings
import Foundation
import Testing

@testable import AutomergeRepo

/// Replays what real JavaScript automerge-repo 2.5.1 clients sent to the reference server
/// (`wire/*.jsonl`) into our repo, connection by connection in capture order, and checks that
/// our repo accepts all of it, answers as the protocol requires, and ends with the documents the
/// clients had.
@Suite(.enabled(if: Fixtures.wireAvailable, Fixtures.skipMessage)) struct WireReplayTests {
    struct Replay {
        var repo: Repo
        var connections: [String: (connection: MemoryConnection, id: RepoConnectionID)] = [:]
        var replies: [String: [RepoMessage]] = [:]
    }

    static func rows(_ scenario: String) throws -> [[String: Any]] {
        let text = try String(contentsOf: Fixtures.wire.appendingPathComponent(scenario + ".jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
            guard let row = object as? [String: Any] else { throw FixtureError(description: "bad row in \(scenario)") }
            return row
        }
    }

    static func notes(_ scenario: String) throws -> [String: Any] {
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.wire.appendingPathComponent("index.json")))
        let scenarios = (index as? [String: Any])?["scenarios"] as? [[String: Any]] ?? []
        return scenarios.first { $0["name"] as? String == scenario }?["notes"] as? [String: Any] ?? [:]
    }

    static func replay(_ scenario: String, storage: (any RepoStorage)? = InMemoryRepoStorage()) async throws -> Replay {
        var replay = Replay(
            repo: Repo(configuration: .init(peerId: "js-sync-server", sharePolicy: .requestsOnly, syncDebounce: .milliseconds(5)), storage: storage)
        )
        for row in try rows(scenario) where row["dir"] as? String == "c2s" {
            guard let label = row["conn"] as? String, let hex = row["hex"] as? String, let bytes = Hex.decode(hex) else { continue }
            if replay.connections[label] == nil {
                let connection = MemoryConnection()
                replay.connections[label] = (connection, await replay.repo.connect(connection))
            }
            guard let (connection, id) = replay.connections[label] else { continue }
            await replay.repo.receive(bytes, from: id)
            try await Task.sleep(for: .milliseconds(15))
            while let frame = await connection.popFrame() { replay.replies[label, default: []].append(try RepoMessage(decoding: frame)) }
        }
        try await Task.sleep(for: .milliseconds(50))
        for (label, entry) in replay.connections {
            while let frame = await entry.connection.popFrame() { replay.replies[label, default: []].append(try RepoMessage(decoding: frame)) }
        }
        return replay
    }

    static func errors(_ replay: Replay) -> [String] {
        replay.replies.values.flatMap { $0 }.compactMap { if case .error(let error) = $0 { error.message } else { nil } }
    }

    @Test(arguments: ["connect", "create-sync", "second-client-find", "ephemeral", "remote-heads", "remote-heads-gossip-server", "storage-client"])
    func recordedClientsAreServedWithoutErrors(scenario: String) async throws {
        let replay = try await Self.replay(scenario)
        #expect(Self.errors(replay).isEmpty, "\(scenario): \(Self.errors(replay))")
        for (label, replies) in replay.replies {
            guard case .peer(let peer)? = replies.first else {
                Issue.record("\(scenario) \(label): the first reply is not peer")
                continue
            }
            #expect(peer.selectedProtocolVersion == "1")
            #expect(peer.senderId == "js-sync-server")
        }
    }

    @Test func documentsEndWithTheClientsHeads() async throws {
        for (scenario, key) in [("create-sync", "heads"), ("second-client-find", "finalHeads"), ("remote-heads", "finalHeads")] {
            let notes = try Self.notes(scenario)
            let documentId = try DocumentId(try #require(notes["documentId"] as? String))
            let expected = try #require(notes[key] as? [String])
            let replay = try await Self.replay(scenario)
            #expect(await replay.repo.heads(of: documentId)?.map(\.hex) == expected, "\(scenario)")
        }
        let storage = InMemoryRepoStorage()
        let notes = try Self.notes("storage-client")
        let documents = try #require(notes["documents"] as? [String: [String: Any]])
        _ = try await Self.replay("storage-client", storage: storage)
        for (id, info) in documents {
            let stored = try #require(try await storage.loadDocument(try DocumentId(id))?.graph)
            #expect(stored.heads.map(\.hex) == info["heads"] as? [String], "storage-client \(id)")
        }
    }

    @Test func missingDocumentGetsSyncThenUnavailable() async throws {
        let replay = try await Self.replay("doc-unavailable")
        let kinds = replay.replies.values.flatMap { $0 }.map(\.type)
        #expect(kinds == ["peer", "sync", "doc-unavailable"])
    }

    @Test func badProtocolVersionIsRefused() async throws {
        let replay = try await Self.replay("bad-protocol-version")
        let replies = replay.replies.values.flatMap { $0 }
        guard case .error(let error)? = replies.first else {
            Issue.record("no error reply: \(replies)")
            return
        }
        #expect(error.message == "unsupported protocol version")
        #expect(error.targetId == "raw-client")
        for entry in replay.connections.values { #expect(await entry.connection.isClosed) }
    }

    @Test func ephemeralIsRelayedToTheOtherClientOnly() async throws {
        let replay = try await Self.replay("ephemeral")
        let relayedToB = (replay.replies["B#2"] ?? []).compactMap { if case .ephemeral(let m) = $0 { m } else { nil } }
        let relayedToA = (replay.replies["A#1"] ?? []).compactMap { if case .ephemeral(let m) = $0 { m } else { nil } }
        #expect(relayedToB.count == 1 && relayedToB.first?.senderId != "client-B")
        #expect(relayedToA.count == 1 && relayedToA.first?.senderId != "client-A")
    }

    @Test func rawProbesAreToleratedLikeTheReference() async throws {
        let replay = try await Self.replay("raw-probes")
        #expect(Self.errors(replay).isEmpty)
        let notes = try Self.notes("raw-probes")
        let documentId = try DocumentId(try #require(notes["documentId"] as? String))
        #expect(await replay.repo.heads(of: documentId)?.map(\.hex) == notes["heads"] as? [String])
    }
}
