import AutomergeCore
import AutomergeRepo
import Foundation
import TestSupport
import Testing

@testable import GroundmistSync

/// Two Swift client peers sync through the real server, repo and NodeFS storage over loopback.
@Suite struct LiveSyncTests {
    static func change(on graph: ChangeGraph, actor: ActorId, key: String, value: Int64) -> ChangeChunk {
        let mine = graph.allHashes.compactMap { graph.metadata(for: $0) }
        let seq = UInt64(mine.filter { $0.actor == actor }.count + 1)
        let maxOp = mine.map(\.maxOp).max() ?? 0
        return Change(
            deps: graph.heads,
            actor: actor,
            seq: seq,
            startOp: maxOp + 1,
            ops: [Op(object: .root, key: .map(key), action: .put, value: .int(value))]
        ).encodeChunk()
    }

    @Test func twoClientsConvergeThroughTheServer() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("live-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let storage = try NodeFSRepoStorage(directory: directory)
        let repo = Repo(configuration: .init(peerId: "server", syncDebounce: .milliseconds(20)), storage: storage, logger: quietLogger)
        let document = DocumentId.random()
        let actorA = ActorId(Array(repeating: 0x0a, count: 16))
        let actorB = ActorId(Array(repeating: 0x0b, count: 16))
        try await withLiveServer(endpoint: repo) { port in
            let a = RepoClient(peerId: "client-a", storageId: "storage-a")
            let b = RepoClient(peerId: "client-b", storageId: "storage-b")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in [a, b] {
                    group.addTask {
                        _ = try await RepoWebSocketClient(url: "ws://127.0.0.1:\(port)", endpoint: client, logger: quietLogger).run()
                    }
                }
                try await eventually("both clients joined") {
                    let joinedA = await a.isJoined
                    let joinedB = await b.isJoined
                    return joinedA && joinedB
                }
                for value in 1...10 {
                    try await a.apply(
                        [Self.change(on: await a.graph(of: document), actor: actorA, key: "k\(value % 3)", value: Int64(value))],
                        to: document
                    )
                }
                await b.request(document)
                try await eventually("B has A's document") { await b.changeCount(of: document) == 10 }
                // Concurrent edits on both sides.
                for value in 1...5 {
                    try await a.apply([Self.change(on: await a.graph(of: document), actor: actorA, key: "a", value: Int64(value))], to: document)
                    try await b.apply([Self.change(on: await b.graph(of: document), actor: actorB, key: "b", value: Int64(value))], to: document)
                }
                try await eventually("both converge") {
                    let headsA = await a.heads(of: document)
                    let headsB = await b.heads(of: document)
                    let countA = await a.changeCount(of: document)
                    return countA == 20 && headsA == headsB
                }
                let serverHeads = await repo.heads(of: document)
                let clientHeads = await a.heads(of: document)
                #expect(serverHeads == clientHeads)
                let errorsA = await a.errors
                let errorsB = await b.errors
                #expect(errorsA.isEmpty && errorsB.isEmpty)
                await a.close()
                await b.close()
                group.cancelAll()
            }
        }
        // Everything acknowledged is on disk.
        let stored = try #require(try await storage.loadDocument(document)?.graph)
        #expect(stored.count == 20)
    }

    @Test func unknownDocumentsAreUnavailableOverTheWire() async throws {
        let repo = Repo(configuration: .init(peerId: "server"), storage: InMemoryRepoStorage(), logger: quietLogger)
        let document = DocumentId.random()
        try await withLiveServer(endpoint: repo) { port in
            let client = RepoClient(peerId: "asker")
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await RepoWebSocketClient(url: "ws://127.0.0.1:\(port)", endpoint: client, logger: quietLogger).run() }
                try await eventually("joined") { await client.isJoined }
                await client.request(document)
                try await eventually("told unavailable") { await client.unavailable.contains(document) }
                await client.close()
                group.cancelAll()
            }
        }
    }
}
