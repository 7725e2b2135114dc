import AutomergeCore
import AutomergeRepo
import Foundation
import TestSupport
import Testing

@testable import GroundmistSync

/// Scripted `RepoClient`s over real WebSockets: the test sends messages and reads replies.
@Suite struct LiveProtocolTests {
    /// Runs `body` with raw peers connected to a server backed by a real repo.
    static func withPeers(
        _ count: Int,
        _ body: @escaping @Sendable (_ peers: [RepoClient], _ port: Int) async throws -> Void
    ) async throws {
        let repo = Repo(
            configuration: .init(peerId: "server", sharePolicy: .requestsOnly, syncDebounce: .milliseconds(10)),
            storage: InMemoryRepoStorage(),
            logger: quietLogger
        )
        try await withLiveServer(endpoint: repo) { port in
            let peers = (0..<count).map { index in RepoClient(peerId: "scripted-\(index)", mode: .scripted) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for peer in peers {
                    group.addTask { _ = try? await RepoWebSocketClient(url: "ws://127.0.0.1:\(port)", endpoint: peer, logger: quietLogger).run() }
                }
                for peer in peers { try await eventually("connected") { await peer.isConnected } }
                try await body(peers, port)
                for peer in peers { await peer.close() }
                group.cancelAll()
            }
        }
    }

    static func join(_ peer: RepoClient, _ id: String, versions: [String]? = ["1"]) async throws -> RepoMessage {
        await peer.send(
            .join(JoinMessage(senderId: id, peerMetadata: PeerMetadata(storageId: nil, isEphemeral: true), supportedProtocolVersions: versions))
        )
        return try await peer.next()
    }

    static func request(_ document: DocumentId, from id: String) -> RepoMessage {
        var state = SyncState()
        let message = ChangeGraph().generateSyncMessage(&state)?.encode() ?? []
        return .request(DocumentSyncMessage(senderId: id, targetId: "server", documentId: document.string, data: message))
    }

    @Test func peerReplyVersionRulesAndInvalidCBOR() async throws {
        try await Self.withPeers(4) { peers, _ in
            guard case .peer(let peer) = try await Self.join(peers[0], "modern") else { throw TimedOut(what: "peer") }
            #expect(peer.targetId == "modern" && peer.selectedProtocolVersion == "1" && peer.peerMetadata.storageId == "in-memory")
            // No version list: protocol 1 by default.
            guard case .peer = try await Self.join(peers[1], "legacy", versions: nil) else { throw TimedOut(what: "peer") }
            // Unsupported version: error, then the server closes.
            guard case .error(let error) = try await Self.join(peers[2], "future", versions: ["2"]) else { throw TimedOut(what: "error") }
            #expect(error.message == "unsupported protocol version")
            try await eventually("version error closes") { await peers[2].wasDisconnected }
            // Invalid CBOR after joining: error and close, the others keep working.
            guard case .peer = try await Self.join(peers[3], "garbage") else { throw TimedOut(what: "peer") }
            await peers[3].sendRaw([0xff, 0xfe])
            guard case .error = try await peers[3].next() else { throw TimedOut(what: "error") }
            try await eventually("invalid CBOR closes") { await peers[3].wasDisconnected }
            await peers[0].send(Self.request(DocumentId.random(), from: "modern"))
            #expect(try await peers[0].collect { $0.type == "doc-unavailable" }.last?.type == "doc-unavailable")
            #expect(await !peers[0].wasDisconnected)
        }
    }

    @Test func rejoinReplacesTheOldSocket() async throws {
        try await Self.withPeers(2) { peers, _ in
            _ = try await Self.join(peers[0], "same-peer")
            guard case .peer = try await Self.join(peers[1], "same-peer") else { throw TimedOut(what: "peer") }
            try await eventually("the old socket is closed") { await peers[0].wasDisconnected }
            #expect(await !peers[1].wasDisconnected)
        }
    }

    @Test func unavailableOnEveryRequestThenPushedWhenItAppears() async throws {
        try await Self.withPeers(2) { peers, _ in
            _ = try await Self.join(peers[0], "asker")
            _ = try await Self.join(peers[1], "author")
            let document = DocumentId.random()
            // First request: our empty document's sync message, then doc-unavailable (as the
            // reference server); every repeat is answered again.
            let isUnavailable: @Sendable (RepoMessage) -> Bool = { $0.type == "doc-unavailable" }
            await peers[0].send(Self.request(document, from: "asker"))
            #expect(try await peers[0].collect(until: isUnavailable).map(\.type) == ["sync", "doc-unavailable"])
            await peers[0].send(Self.request(document, from: "asker"))
            #expect(try await peers[0].collect(until: isUnavailable).map(\.type).last == "doc-unavailable")
            // The author uploads the document; the earlier requester receives it unasked.
            let change = Change(
                actor: ActorId([1, 2, 3]),
                seq: 1,
                startOp: 1,
                ops: [Op(object: .root, key: .map("k"), action: .put, value: .int(1))]
            ).encodeChunk()
            let upload = SyncMessage(version: .v1, heads: [change.hash], changes: [change.bytes], trailer: .current([.supportsSyncReset]))
            await peers[1].send(
                .sync(DocumentSyncMessage(senderId: "author", targetId: "server", documentId: document.string, data: upload.encode()))
            )
            let pushedHead = change.hash
            let pushed = try await peers[0].collect { message in
                guard case .sync(let sync) = message else { return false }
                return (try? SyncMessage.decode(sync.data).heads) == [pushedHead]
            }
            let heads = try pushed.compactMap { message -> [ChangeHash]? in
                guard case .sync(let sync) = message else { return nil }
                return try SyncMessage.decode(sync.data).heads
            }
            #expect(heads.contains([change.hash]))
        }
    }

    @Test func ephemeralRelayWithoutEcho() async throws {
        try await Self.withPeers(2) { peers, _ in
            _ = try await Self.join(peers[0], "a")
            _ = try await Self.join(peers[1], "b")
            let document = DocumentId.random()
            for (peer, id) in [(peers[0], "a"), (peers[1], "b")] {
                await peer.send(Self.request(document, from: id))
                _ = try await peer.collect { $0.type == "doc-unavailable" }
            }
            let message = EphemeralMessage(
                senderId: "a",
                targetId: "server",
                documentId: document.string,
                count: 1,
                sessionId: "session",
                data: [0xa1, 0x61, 0x78, 0x01]
            )
            await peers[0].send(.ephemeral(message))
            var atB = [try await peers[1].next()]
            atB += await peers[1].drain()
            #expect(atB.count == 1)
            guard case .ephemeral(let relayed)? = atB.first else { throw TimedOut(what: "ephemeral") }
            #expect(relayed.targetId == "b" && relayed.senderId == "a" && relayed.data == message.data)
            await peers[1].send(.ephemeral(relayed))
            #expect(await peers[0].drain().isEmpty)
        }
    }
}
