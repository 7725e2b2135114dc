import AutomergeCore
import Foundation
import TestSupport
import Testing

@testable import AutomergeRepo

/// The repo against scripted clients on in-memory links: every reply arrives before `send`
/// returns, and the sync debounce runs on a `TestClock` the test advances, so nothing waits for time.
@Suite struct RepoTests {
    static let debounce = Duration.milliseconds(10)

    static func makeRepo(
        storage: (any RepoStorage)? = InMemoryRepoStorage(storageId: "server-storage"),
        policy: SharePolicy = .requestsOnly,
        clock: TestClock = TestClock()
    ) -> Repo {
        Repo(configuration: .init(peerId: "server", sharePolicy: policy, syncDebounce: debounce, clock: clock), storage: storage)
    }

    let actorA = ActorId(Array(repeating: 0xaa, count: 16))
    let actorB = ActorId(Array(repeating: 0xbb, count: 16))

    @Test func joinGetsAnImmediatePeerReply() async throws {
        let repo = Self.makeRepo()
        let client = await RepoClient.scripted(to: repo, peerId: "client-a", storageId: "client-storage")
        let reply = try await client.join()
        guard case .peer(let peer) = reply else { throw UnexpectedReply("\(reply)") }
        #expect(peer.senderId == "server")
        #expect(peer.targetId == "client-a")
        #expect(peer.selectedProtocolVersion == "1")
        #expect(peer.peerMetadata == PeerMetadata(storageId: "server-storage", isEphemeral: false))
    }

    @Test func versionsMissingOrAsAStringAreAccepted() async throws {
        let repo = Self.makeRepo()
        let legacy = await RepoClient.scripted(to: repo, peerId: "legacy", protocolVersions: nil)
        guard case .peer = try await legacy.join() else { throw UnexpectedReply("no peer") }
    }

    @Test func unsupportedVersionGetsAnErrorAndClose() async throws {
        let repo = Self.makeRepo()
        let client = await RepoClient.scripted(to: repo, peerId: "future", protocolVersions: ["2"])
        let reply = try await client.join()
        guard case .error(let error) = reply else { throw UnexpectedReply("\(reply)") }
        #expect(error.message == "unsupported protocol version")
        #expect(await client.wasDisconnected)
    }

    @Test func firstMessageMustBeJoin() async throws {
        let repo = Self.makeRepo()
        let client = await RepoClient.scripted(to: repo, peerId: "rude")
        let id = DocumentId.random()
        await client.send(.sync(DocumentSyncMessage(senderId: "rude", targetId: "server", documentId: id.string, data: [0x42, 0, 0, 0, 0])))
        guard case .error = try await client.next() else { throw UnexpectedReply("no error") }
        #expect(await client.wasDisconnected)
    }

    @Test func invalidCBORClosesOnlyThatConnection() async throws {
        let repo = Self.makeRepo()
        let good = await RepoClient.scripted(to: repo, peerId: "good")
        let bad = await RepoClient.scripted(to: repo, peerId: "bad")
        _ = try await good.join()
        _ = try await bad.join()
        await bad.sendRaw([0xff, 0x00, 0x13])
        guard case .error = try await bad.next() else { throw UnexpectedReply("no error") }
        #expect(await bad.wasDisconnected)
        let document = DocumentId.random()
        try await good.change(document, key: "k", value: 1, actor: actorA)
        try await good.sync(document)
        #expect(await repo.heads(of: document) == good.heads(of: document))
        #expect(await !good.wasDisconnected)
    }

    @Test func badDocumentIdsAndGarbageSyncDataAreRejected() async throws {
        let storage = InMemoryRepoStorage()
        let repo = Self.makeRepo(storage: storage)
        for documentId in ["../../etc", "4NMNnkMhL8jXrdJ9jamS58PAVdXv", ""] {
            let client = await RepoClient.scripted(to: repo, peerId: "c-\(documentId)")
            _ = try await client.join()
            await client.send(
                .request(DocumentSyncMessage(senderId: client.peerId, targetId: "server", documentId: documentId, data: [0x42, 0, 0, 0, 0]))
            )
            guard case .error(let error) = try await client.next() else { throw UnexpectedReply("no error") }
            #expect(error.message == "invalid document id")
        }
        let client = await RepoClient.scripted(to: repo, peerId: "garbage")
        _ = try await client.join()
        let document = DocumentId.random()
        await client.send(.sync(DocumentSyncMessage(senderId: "garbage", targetId: "server", documentId: document.string, data: [0x42, 0xff])))
        guard case .error(let error) = try await client.next() else { throw UnexpectedReply("no error") }
        #expect(error.message.hasPrefix("invalid sync message"))
        #expect(await storage.saveCount == 0)
    }

    @Test func unknownDocumentIsUnavailableOnEveryRequest() async throws {
        let repo = Self.makeRepo()
        let client = await RepoClient.scripted(to: repo, peerId: "asker")
        _ = try await client.join()
        let document = DocumentId.random()
        for _ in 0..<2 {
            var state = SyncState()
            let request = try #require(ChangeGraph().generateSyncMessage(&state))
            await client.send(
                .request(DocumentSyncMessage(senderId: "asker", targetId: "server", documentId: document.string, data: request.encode()))
            )
            let messages = try await client.received()
            #expect(
                messages.contains { if case .docUnavailable(let m) = $0 { m.documentId == document.string && m.targetId == "asker" } else { false } }
            )
        }
    }

    @Test func documentsUploadedByOneClientReachAnother() async throws {
        let storage = InMemoryRepoStorage()
        let repo = Self.makeRepo(storage: storage)
        let a = await RepoClient.scripted(to: repo, peerId: "a", storageId: "storage-a")
        let b = await RepoClient.scripted(to: repo, peerId: "b", storageId: "storage-b")
        _ = try await a.join()
        _ = try await b.join()
        let document = DocumentId.random()
        for value in 1...5 { try await a.change(document, key: "k\(value)", value: Int64(value), actor: actorA) }
        try await a.sync(document)
        #expect(await storage.storedBytes(of: document) != nil)
        try await b.sync(document, asRequest: true)
        #expect(await b.heads(of: document) == a.heads(of: document))
        #expect(await b.changeCount(of: document) == 5)
    }

    /// A fresh V2 peer gets the whole document in one V2 entry (docs/sync-protocol.md §5): what storage holds, as it
    /// is (here, the change chunks as they arrived; on disk, the snapshot and incrementals).
    @Test func freshPeerGetsTheStoredDocument() async throws {
        let storage = InMemoryRepoStorage()
        let repo = Self.makeRepo(storage: storage)
        let a = await RepoClient.scripted(to: repo, peerId: "a")
        let b = await RepoClient.scripted(to: repo, peerId: "b")
        _ = try await a.join()
        _ = try await b.join()
        let document = DocumentId.random()
        for value in 1...30 { try await a.change(document, key: "k\(value % 7)", value: Int64(value), actor: actorA) }
        try await a.sync(document)

        var graph = ChangeGraph()
        var state = SyncState()
        let request = try #require(graph.generateSyncMessage(&state))
        await b.send(.request(DocumentSyncMessage(senderId: "b", targetId: "server", documentId: document.string, data: request.encode())))
        let replies = try await b.received().compactMap { message -> SyncMessage? in
            guard case .sync(let sync) = message else { return nil }
            return try? SyncMessage.decode(sync.data)
        }
        let whole = try #require(replies.first { !$0.changes.isEmpty })
        #expect(whole.version == .v2)
        #expect(whole.changes.count == 1)
        let entry = try #require(whole.changes.first)
        #expect(entry == (await storage.storedBytes(of: document)))
        try graph.receiveSyncMessage(&state, whole)
        #expect(await graph.heads == a.heads(of: document))
        #expect(graph.count == 30)
    }

    @Test func requesterGetsTheDocumentWhenItAppears() async throws {
        let clock = TestClock()
        let repo = Self.makeRepo(clock: clock)
        let a = await RepoClient.scripted(to: repo, peerId: "a")
        let b = await RepoClient.scripted(to: repo, peerId: "b")
        _ = try await a.join()
        _ = try await b.join()
        let document = DocumentId.random()
        try await b.sync(document, asRequest: true)
        #expect(await b.otherMessages.contains { if case .docUnavailable = $0 { true } else { false } })
        try await a.change(document, key: "x", value: 1, actor: actorA)
        try await a.sync(document)
        // B never asked again: the server pushes the new document to its earlier requester, once
        // its debounce has run, and not before.
        await clock.waitForSleepers(1)
        #expect(try await b.received().isEmpty)
        clock.advance(by: Self.debounce)
        await b.waitForFrame()
        try await b.sync(document)
        #expect(await b.heads(of: document) == a.heads(of: document))
        #expect(await !b.heads(of: document).isEmpty)
    }

    @Test func concurrentEditsConvergeThroughTheServer() async throws {
        let clock = TestClock()
        let repo = Self.makeRepo(clock: clock)
        let a = await RepoClient.scripted(to: repo, peerId: "a")
        let b = await RepoClient.scripted(to: repo, peerId: "b")
        _ = try await a.join()
        _ = try await b.join()
        let document = DocumentId.random()
        try await a.change(document, key: "shared", value: 0, actor: actorA)
        try await a.sync(document)
        try await b.sync(document, asRequest: true)
        for round in 1...5 {
            try await a.change(document, key: "a\(round)", value: Int64(round), actor: actorA)
            try await b.change(document, key: "b\(round)", value: Int64(round), actor: actorB)
        }
        try await a.sync(document)
        try await b.sync(document)
        // A is told of B's changes by the server's debounced fan-out.
        await clock.waitForSleepers(1)
        clock.advance(by: Self.debounce)
        await a.waitForFrame()
        try await a.sync(document)
        #expect(await a.heads(of: document) == b.heads(of: document))
        #expect(await a.changeCount(of: document) == 11)
        #expect(await repo.heads(of: document) == a.heads(of: document))
    }

    @Test func aChangeIsDurableBeforeTheServerAdvertisesIt() async throws {
        let storage = InMemoryRepoStorage()
        let repo = Self.makeRepo(storage: storage)
        let a = await RepoClient.scripted(to: repo, peerId: "a")
        _ = try await a.join()
        let document = DocumentId.random()
        try await a.change(document, key: "k", value: 1, actor: actorA)
        var graph = await a.graph(of: document)
        #expect(graph.count == 1)
        var state = SyncState()
        // First round: the server learns our heads; second: it receives the change.
        for _ in 0..<3 {
            guard let message = graph.generateSyncMessage(&state) else { break }
            await a.send(.sync(DocumentSyncMessage(senderId: "a", targetId: "server", documentId: document.string, data: message.encode())))
            for reply in try await a.received() {
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
        let first = await RepoClient.scripted(to: repo, peerId: "same")
        _ = try await first.join()
        let second = await RepoClient.scripted(to: repo, peerId: "same")
        guard case .peer = try await second.join() else { throw UnexpectedReply("no peer") }
        #expect(await first.wasDisconnected)
        #expect(await !second.wasDisconnected)
    }

    @Test func ephemeralMessagesAreRelayedOnceAndNeverEchoed() async throws {
        let repo = Self.makeRepo()
        let a = await RepoClient.scripted(to: repo, peerId: "a")
        let b = await RepoClient.scripted(to: repo, peerId: "b")
        _ = try await a.join()
        _ = try await b.join()
        let document = DocumentId.random()
        try await a.change(document, key: "k", value: 1, actor: actorA)
        try await a.sync(document)
        try await b.sync(document, asRequest: true)
        let ephemeral = EphemeralMessage(senderId: "a", targetId: "server", documentId: document.string, count: 1, sessionId: "s1", data: [0xa0])
        await a.send(.ephemeral(ephemeral))
        let atB = try await b.received()
        #expect(atB.count == 1)
        guard case .ephemeral(let relayed)? = atB.first else { throw UnexpectedReply("\(atB)") }
        #expect(relayed.senderId == "a" && relayed.targetId == "b" && relayed.count == 1 && relayed.sessionId == "s1" && relayed.data == [0xa0])
        // B's client echoes it back (as JS clients do): dropped, nothing reaches A.
        await b.send(.ephemeral(relayed))
        #expect(try await a.received().isEmpty)
        // A replay of the same count is dropped too.
        await a.send(.ephemeral(ephemeral))
        #expect(try await b.received().isEmpty)
    }

    @Test func announcePolicyOffersLoadedDocumentsToNewPeers() async throws {
        let repo = Self.makeRepo(policy: .announceLoaded)
        let a = await RepoClient.scripted(to: repo, peerId: "a")
        _ = try await a.join()
        let document = DocumentId.random()
        try await a.change(document, key: "k", value: 1, actor: actorA)
        try await a.sync(document)
        let b = await RepoClient.scripted(to: repo, peerId: "b")
        _ = try await b.join()
        let offered = try await b.received()
        #expect(offered.contains { if case .sync(let m) = $0 { m.documentId == document.string } else { false } })
    }

    @Test func syncStatesPersistPerPeerStorageId() async throws {
        let storage = InMemoryRepoStorage()
        let clock = TestClock()
        let repo = Self.makeRepo(storage: storage, clock: clock)
        let a = await RepoClient.scripted(to: repo, peerId: "a", storageId: "storage-a")
        _ = try await a.join()
        let document = DocumentId.random()
        try await a.change(document, key: "k", value: 1, actor: actorA)
        try await a.sync(document)
        // Sync states are written by the debounced flush: nothing before it runs.
        await clock.waitForSleepers(1)
        #expect(await storage.loadSyncState(of: document, peer: "storage-a") == nil)
        clock.advance(by: Self.debounce)
        // The timer's flush and this one take the document's lock in turn; the second finds
        // nothing left to do. Either way the state is written when this returns.
        await repo.flush()
        let saved = try #require(await storage.loadSyncState(of: document, peer: "storage-a"))
        #expect(try await SyncState(decoding: saved).sharedHeads == a.heads(of: document))
        let ephemeral = await RepoClient.scripted(to: repo, peerId: "e")
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
        let temporary = try TemporaryDirectory("repo")
        defer { temporary.remove() }
        let directory = temporary.url
        let document = DocumentId.random()
        var expectedHeads: [ChangeHash] = []
        do {
            let repo = Repo(
                configuration: .init(peerId: "server", syncDebounce: .milliseconds(10), clock: TestClock()),
                storage: try NodeFSRepoStorage(directory: directory)
            )
            let client = await RepoClient.scripted(to: repo, peerId: "writer", storageId: "writer-storage")
            _ = try await client.join()
            for value in 1...30 { try await client.change(document, key: "k\(value % 4)", value: Int64(value), actor: actor) }
            try await client.sync(document)
            expectedHeads = await client.heads(of: document)
            try #require(!expectedHeads.isEmpty)
        }
        let restarted = Repo(configuration: .init(peerId: "server"), storage: try NodeFSRepoStorage(directory: directory))
        let reader = await RepoClient.scripted(to: restarted, peerId: "reader")
        _ = try await reader.join()
        try await reader.sync(document, asRequest: true)
        #expect(await reader.heads(of: document) == expectedHeads)
        #expect(await reader.changeCount(of: document) == 30)
    }
}

@Suite struct RepoEvictionTests {
    /// A document leaves memory when its last peer disconnects, even with a flush pending, and
    /// the peer's sync state is on disk by then.
    @Test func lastPeerLeavingEvictsTheDocument() async throws {
        let storage = InMemoryRepoStorage()
        let clock = TestClock()
        let repo = Repo(configuration: .init(peerId: "server", syncDebounce: .seconds(30), clock: clock), storage: storage)
        let client = RepoClient(peerId: "only", storageId: "storage-only", mode: .scripted)
        let link = await MemoryLink.connect(client, to: repo)
        _ = try await client.join()
        let document = DocumentId.random()
        try await client.change(document, key: "k", value: 1, actor: ActorId([7, 7, 7]))
        try await client.sync(document)
        await clock.waitForSleepers(1)
        #expect(await repo.loadedDocuments == [document])
        await repo.disconnect(link.serverSideId)
        #expect(await repo.loadedDocuments.isEmpty)
        let saved = try #require(try await storage.loadSyncState(of: document, peer: "storage-only"))
        #expect(try await SyncState(decoding: saved).sharedHeads == client.heads(of: document))
    }
}

/// A reply of the wrong kind.
struct UnexpectedReply: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
