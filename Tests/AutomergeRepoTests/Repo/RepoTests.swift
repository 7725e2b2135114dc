import AutomergeCore
import Foundation
import Testing

@testable import AutomergeRepo

@Suite struct RepoTests {
    static func makeRepo(storage: (any RepoStorage)? = InMemoryRepoStorage(storageId: "server-storage"), policy: SharePolicy = .requestsOnly) -> Repo
    {
        Repo(configuration: .init(peerId: "server", sharePolicy: policy, syncDebounce: .milliseconds(10)), storage: storage)
    }

    let actorA = ActorId(Array(repeating: 0xaa, count: 16))
    let actorB = ActorId(Array(repeating: 0xbb, count: 16))

    @Test func joinGetsAnImmediatePeerReply() async throws {
        let repo = Self.makeRepo()
        let client = TestClient(repo: repo, peerId: "client-a")
        let reply = try await client.join(storageId: "client-storage")
        guard case .peer(let peer) = reply else { throw TestClientError.unexpected("\(reply)") }
        #expect(peer.senderId == "server")
        #expect(peer.targetId == "client-a")
        #expect(peer.selectedProtocolVersion == "1")
        #expect(peer.peerMetadata == PeerMetadata(storageId: "server-storage", isEphemeral: false))
    }

    @Test func versionsMissingOrAsAStringAreAccepted() async throws {
        let repo = Self.makeRepo()
        let legacy = TestClient(repo: repo, peerId: "legacy")
        guard case .peer = try await legacy.join(versions: nil) else { throw TestClientError.unexpected("no peer") }
    }

    @Test func unsupportedVersionGetsAnErrorAndClose() async throws {
        let repo = Self.makeRepo()
        let client = TestClient(repo: repo, peerId: "future")
        let reply = try await client.join(versions: ["2"])
        guard case .error(let error) = reply else { throw TestClientError.unexpected("\(reply)") }
        #expect(error.message == "unsupported protocol version")
        #expect(await client.connection.isClosed)
    }

    @Test func firstMessageMustBeJoin() async throws {
        let repo = Self.makeRepo()
        let client = TestClient(repo: repo, peerId: "rude")
        await client.open()
        let id = DocumentId.random()
        await client.send(.sync(DocumentSyncMessage(senderId: "rude", targetId: "server", documentId: id.string, data: [0x42, 0, 0, 0, 0])))
        guard case .error = try await client.next() else { throw TestClientError.unexpected("no error") }
        #expect(await client.connection.isClosed)
    }

    @Test func invalidCBORClosesOnlyThatConnection() async throws {
        let repo = Self.makeRepo()
        let good = TestClient(repo: repo, peerId: "good")
        let bad = TestClient(repo: repo, peerId: "bad")
        _ = try await good.join()
        _ = try await bad.join()
        await bad.sendRaw([0xff, 0x00, 0x13])
        guard case .error = try await bad.next() else { throw TestClientError.unexpected("no error") }
        #expect(await bad.connection.isClosed)
        let document = DocumentId.random()
        try good.change(document, key: "k", value: 1, actor: actorA)
        try await good.sync(document)
        #expect(await repo.heads(of: document) == good.documents[document]?.heads)
        #expect(await !good.connection.isClosed)
    }

    @Test func badDocumentIdsAndGarbageSyncDataAreRejected() async throws {
        let storage = InMemoryRepoStorage()
        let repo = Self.makeRepo(storage: storage)
        for documentId in ["../../etc", "4NMNnkMhL8jXrdJ9jamS58PAVdXv", ""] {
            let client = TestClient(repo: repo, peerId: "c-\(documentId)")
            _ = try await client.join()
            await client.send(
                .request(DocumentSyncMessage(senderId: client.peerId, targetId: "server", documentId: documentId, data: [0x42, 0, 0, 0, 0]))
            )
            guard case .error(let error) = try await client.next() else { throw TestClientError.unexpected("no error") }
            #expect(error.message == "invalid document id")
        }
        let client = TestClient(repo: repo, peerId: "garbage")
        _ = try await client.join()
        let document = DocumentId.random()
        await client.send(.sync(DocumentSyncMessage(senderId: "garbage", targetId: "server", documentId: document.string, data: [0x42, 0xff])))
        guard case .error(let error) = try await client.next() else { throw TestClientError.unexpected("no error") }
        #expect(error.message.hasPrefix("invalid sync message"))
        #expect(await storage.saveCount == 0)
    }

    @Test func unknownDocumentIsUnavailableOnEveryRequest() async throws {
        let repo = Self.makeRepo()
        let client = TestClient(repo: repo, peerId: "asker")
        _ = try await client.join()
        let document = DocumentId.random()
        for _ in 0..<2 {
            var state = SyncState()
            let request = try #require(ChangeGraph().generateSyncMessage(&state))
            await client.send(
                .request(DocumentSyncMessage(senderId: "asker", targetId: "server", documentId: document.string, data: request.encode()))
            )
            let messages = try await client.drain()
            #expect(
                messages.contains { if case .docUnavailable(let m) = $0 { m.documentId == document.string && m.targetId == "asker" } else { false } }
            )
        }
    }

    @Test func documentsUploadedByOneClientReachAnother() async throws {
        let storage = InMemoryRepoStorage()
        let repo = Self.makeRepo(storage: storage)
        let a = TestClient(repo: repo, peerId: "a")
        let b = TestClient(repo: repo, peerId: "b")
        _ = try await a.join(storageId: "storage-a")
        _ = try await b.join(storageId: "storage-b")
        let document = DocumentId.random()
        for value in 1...5 { try a.change(document, key: "k\(value)", value: Int64(value), actor: actorA) }
        try await a.sync(document)
        #expect(await storage.storedBytes(of: document) != nil)
        try await b.sync(document, asRequest: true)
        #expect(b.documents[document]?.heads == a.documents[document]?.heads)
        #expect(b.documents[document]?.count == 5)
    }

    /// A fresh V2 peer gets the whole document in one V2 entry (docs/sync-protocol.md §5): what storage holds, as it
    /// is (here, the change chunks as they arrived; on disk, the snapshot and incrementals).
    @Test func freshPeerGetsTheStoredDocument() async throws {
        let storage = InMemoryRepoStorage()
        let repo = Self.makeRepo(storage: storage)
        let a = TestClient(repo: repo, peerId: "a")
        let b = TestClient(repo: repo, peerId: "b")
        _ = try await a.join()
        _ = try await b.join()
        let document = DocumentId.random()
        for value in 1...30 { try a.change(document, key: "k\(value % 7)", value: Int64(value), actor: actorA) }
        try await a.sync(document)

        var graph = ChangeGraph()
        var state = SyncState()
        let request = try #require(graph.generateSyncMessage(&state))
        await b.send(.request(DocumentSyncMessage(senderId: "b", targetId: "server", documentId: document.string, data: request.encode())))
        let replies = try await b.drain().compactMap { message -> SyncMessage? in
            guard case .sync(let sync) = message else { return nil }
            return try? SyncMessage.decode(sync.data)
        }
        let whole = try #require(replies.first { !$0.changes.isEmpty })
        #expect(whole.version == .v2)
        #expect(whole.changes.count == 1)
        let entry = try #require(whole.changes.first)
        #expect(entry == (await storage.storedBytes(of: document)))
        try graph.receiveSyncMessage(&state, whole)
        #expect(graph.heads == a.documents[document]?.heads)
        #expect(graph.count == 30)
    }

    @Test func requesterGetsTheDocumentWhenItAppears() async throws {
        let repo = Self.makeRepo()
        let a = TestClient(repo: repo, peerId: "a")
        let b = TestClient(repo: repo, peerId: "b")
        _ = try await a.join()
        _ = try await b.join()
        let document = DocumentId.random()
        try await b.sync(document, asRequest: true)
        #expect(b.otherMessages.contains { if case .docUnavailable = $0 { true } else { false } })
        try a.change(document, key: "x", value: 1, actor: actorA)
        try await a.sync(document)
        // B never asked again: the server pushes the new document to its earlier requester (after
        // its debounce, which a loaded machine can stretch past one quiet window).
        for _ in 0..<20 where b.documents[document]?.heads != a.documents[document]?.heads { try await b.sync(document) }
        #expect(b.documents[document]?.heads == a.documents[document]?.heads)
    }

    @Test func concurrentEditsConvergeThroughTheServer() async throws {
        let repo = Self.makeRepo()
        let a = TestClient(repo: repo, peerId: "a")
        let b = TestClient(repo: repo, peerId: "b")
        _ = try await a.join()
        _ = try await b.join()
        let document = DocumentId.random()
        try a.change(document, key: "shared", value: 0, actor: actorA)
        try await a.sync(document)
        try await b.sync(document, asRequest: true)
        for round in 1...5 {
            try a.change(document, key: "a\(round)", value: Int64(round), actor: actorA)
            try b.change(document, key: "b\(round)", value: Int64(round), actor: actorB)
        }
        try await a.sync(document)
        try await b.sync(document)
        try await a.sync(document)
        #expect(a.documents[document]?.heads == b.documents[document]?.heads)
        #expect(a.documents[document]?.count == 11)
        #expect(await repo.heads(of: document) == a.documents[document]?.heads)
    }

    @Test func aChangeIsDurableBeforeTheServerAdvertisesIt() async throws {
        let storage = InMemoryRepoStorage()
        let repo = Self.makeRepo(storage: storage)
        let a = TestClient(repo: repo, peerId: "a")
        _ = try await a.join()
        let document = DocumentId.random()
        try a.change(document, key: "k", value: 1, actor: actorA)
        var graph = try #require(a.documents[document])
        var state = SyncState()
        // First round: the server learns our heads; second: it receives the change.
        for _ in 0..<3 {
            guard let message = graph.generateSyncMessage(&state) else { break }
            await a.send(.sync(DocumentSyncMessage(senderId: "a", targetId: "server", documentId: document.string, data: message.encode())))
            for reply in try await a.drain(quiet: .milliseconds(50)) {
                guard case .sync(let sync) = reply else { continue }
                let decoded = try SyncMessage.decode(sync.data)
                if decoded.heads == graph.heads, !decoded.heads.isEmpty {
                    var stored = ChangeGraph()
                    try stored.load(try #require(await storage.storedBytes(of: document)))
                    #expect(stored.heads == graph.heads, "the server advertised heads it had not stored")
                }
                try graph.receiveSyncMessage(&state, decoded)
            }
        }
        #expect(await storage.saveCount >= 1)
    }

    @Test func rejoinReplacesTheOldConnection() async throws {
        let repo = Self.makeRepo()
        let first = TestClient(repo: repo, peerId: "same")
        _ = try await first.join()
        let second = TestClient(repo: repo, peerId: "same")
        guard case .peer = try await second.join() else { throw TestClientError.unexpected("no peer") }
        #expect(await first.connection.isClosed)
        #expect(await !second.connection.isClosed)
    }

    @Test func ephemeralMessagesAreRelayedOnceAndNeverEchoed() async throws {
        let repo = Self.makeRepo()
        let a = TestClient(repo: repo, peerId: "a")
        let b = TestClient(repo: repo, peerId: "b")
        _ = try await a.join()
        _ = try await b.join()
        let document = DocumentId.random()
        try a.change(document, key: "k", value: 1, actor: actorA)
        try await a.sync(document)
        try await b.sync(document, asRequest: true)
        let ephemeral = EphemeralMessage(senderId: "a", targetId: "server", documentId: document.string, count: 1, sessionId: "s1", data: [0xa0])
        await a.send(.ephemeral(ephemeral))
        let atB = try await b.drain()
        #expect(atB.count == 1)
        guard case .ephemeral(let relayed)? = atB.first else { throw TestClientError.unexpected("\(atB)") }
        #expect(relayed.senderId == "a" && relayed.targetId == "b" && relayed.count == 1 && relayed.sessionId == "s1" && relayed.data == [0xa0])
        // B's client echoes it back (as JS clients do): dropped, nothing reaches A.
        await b.send(.ephemeral(relayed))
        #expect(try await a.drain().isEmpty)
        // A replay of the same count is dropped too.
        await a.send(.ephemeral(ephemeral))
        #expect(try await b.drain().isEmpty)
    }

    @Test func announcePolicyOffersLoadedDocumentsToNewPeers() async throws {
        let repo = Self.makeRepo(policy: .announceLoaded)
        let a = TestClient(repo: repo, peerId: "a")
        _ = try await a.join()
        let document = DocumentId.random()
        try a.change(document, key: "k", value: 1, actor: actorA)
        try await a.sync(document)
        let b = TestClient(repo: repo, peerId: "b")
        _ = try await b.join()
        let offered = try await b.drain()
        #expect(offered.contains { if case .sync(let m) = $0 { m.documentId == document.string } else { false } })
    }

    @Test func syncStatesPersistPerPeerStorageId() async throws {
        let storage = InMemoryRepoStorage()
        let repo = Self.makeRepo(storage: storage)
        let a = TestClient(repo: repo, peerId: "a")
        _ = try await a.join(storageId: "storage-a")
        let document = DocumentId.random()
        try a.change(document, key: "k", value: 1, actor: actorA)
        try await a.sync(document)
        let saved = try #require(await storage.loadSyncState(of: document, peer: "storage-a"))
        #expect(try SyncState(decoding: saved).sharedHeads == a.documents[document]?.heads)
        let ephemeral = TestClient(repo: repo, peerId: "e")
        _ = try await ephemeral.join()
        try await ephemeral.sync(document, asRequest: true)
        #expect(await storage.loadSyncState(of: document, peer: "") == nil)
    }
}

@Suite struct RepoPersistenceTests {
    let actor = ActorId(Array(repeating: 0xcc, count: 16))

    /// Documents synced into a repo on a NodeFS directory are there after a restart, for a
    /// fresh client that only knows the document id.
    @Test func documentsSurviveARestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("repo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let document = DocumentId.random()
        var expectedHeads: [ChangeHash] = []
        do {
            let repo = Repo(
                configuration: .init(peerId: "server", syncDebounce: .milliseconds(10)),
                storage: try NodeFSRepoStorage(directory: directory)
            )
            let client = TestClient(repo: repo, peerId: "writer")
            _ = try await client.join(storageId: "writer-storage")
            for value in 1...30 { try client.change(document, key: "k\(value % 4)", value: Int64(value), actor: actor) }
            try await client.sync(document)
            expectedHeads = try #require(client.documents[document]?.heads)
        }
        let restarted = Repo(configuration: .init(peerId: "server"), storage: try NodeFSRepoStorage(directory: directory))
        let reader = TestClient(repo: restarted, peerId: "reader")
        _ = try await reader.join()
        try await reader.sync(document, asRequest: true)
        #expect(reader.documents[document]?.heads == expectedHeads)
        #expect(reader.documents[document]?.count == 30)
    }
}

@Suite struct RepoEvictionTests {
    /// A document leaves memory when its last peer disconnects, even with a flush pending, and
    /// the peer's sync state is on disk by then.
    @Test func lastPeerLeavingEvictsTheDocument() async throws {
        let storage = InMemoryRepoStorage()
        let repo = Repo(configuration: .init(peerId: "server", syncDebounce: .seconds(30)), storage: storage)
        let client = TestClient(repo: repo, peerId: "only")
        _ = try await client.join(storageId: "storage-only")
        let document = DocumentId.random()
        try client.change(document, key: "k", value: 1, actor: ActorId([7, 7, 7]))
        try await client.sync(document)
        #expect(await repo.loadedDocuments == [document])
        await repo.disconnect(client.id)
        #expect(await repo.loadedDocuments.isEmpty)
        let saved = try #require(try await storage.loadSyncState(of: document, peer: "storage-only"))
        #expect(try SyncState(decoding: saved).sharedHeads == client.documents[document]?.heads)
    }
}
