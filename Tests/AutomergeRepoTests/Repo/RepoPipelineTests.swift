import AutomergeCore
import TestSupport
import Testing

@testable import AutomergeRepo

/// `Repo.submit`: one connection's messages to different documents are handled concurrently (so
/// their durable writes share group-commit rounds), each document's in order, all before the
/// connection's disconnect, and no more than a bounded number at once.
@Suite struct RepoPipelineTests {
    let actor = ActorId(Array(repeating: 0x5a, count: 16))

    private func change(_ number: Int, after deps: [ChangeHash]) -> ChangeChunk {
        Change(
            deps: deps,
            actor: actor,
            seq: UInt64(number),
            startOp: UInt64(number),
            time: 0,
            ops: [Op(object: .root, key: .map("k"), action: .put, value: .int(Int64(number)))]
        ).encodeChunk()
    }

    private func sync(_ id: DocumentId, _ chunks: [ChangeChunk]) -> [UInt8] {
        let message = SyncMessage(heads: chunks.last.map { [$0.hash] } ?? [], changes: chunks.map(\.bytes))
        return RepoMessage.sync(DocumentSyncMessage(senderId: "client", targetId: "server", documentId: id.string, data: message.encode()))
            .encoded()
    }

    private func joined(_ storage: GatedStorage) async -> (Repo, Recorder, RepoConnectionID) {
        let repo = Repo(configuration: .init(peerId: "server", sharePolicy: .requestsOnly), storage: storage)
        let recorder = Recorder()
        let id = await repo.connect(recorder)
        let join = JoinMessage(senderId: "client", peerMetadata: PeerMetadata(storageId: nil, isEphemeral: true), supportedProtocolVersions: ["1"])
        await repo.submit(RepoMessage.join(join).encoded(), from: id)
        return (repo, recorder, id)
    }

    @Test func otherDocumentsAreAnsweredWhileOneWaitsForStorage() async throws {
        let storage = GatedStorage()
        let (repo, recorder, connection) = await joined(storage)
        let slow = DocumentId.random()
        let fast = DocumentId.random()
        await storage.close(slow)
        let slowChange = change(1, after: [])
        let fastChange = change(1, after: [])
        try await withTimeout {
            await repo.submit(sync(slow, [slowChange]), from: connection)
            await repo.submit(sync(fast, [fastChange]), from: connection)
        }
        try await eventually("the other document is answered") { await recorder.lastHeads(of: fast) == [fastChange.hash] }
        #expect(await recorder.lastHeads(of: slow) == nil)
        #expect(await storage.waitingSaves == 1)
        await storage.open(slow)
        try await eventually("the waiting document is answered") { await recorder.lastHeads(of: slow) == [slowChange.hash] }
    }

    @Test func oneDocumentsMessagesStayInOrderAndDisconnectWaitsForThem() async throws {
        let storage = GatedStorage()
        let (repo, _, connection) = await joined(storage)
        let document = DocumentId.random()
        await storage.close(document)
        var chunks: [ChangeChunk] = []
        for number in 1...5 { chunks.append(change(number, after: chunks.last.map { [$0.hash] } ?? [])) }
        for chunk in chunks { await repo.submit(sync(document, [chunk]), from: connection) }
        let disconnected = Task { await repo.disconnect(connection) }
        try await eventually("the first save waits") { await storage.waitingSaves == 1 }
        await storage.open(document)
        try await withTimeout { await disconnected.value }
        // Handled one by one in the order sent: each save is the next change.
        let saves = await storage.saves
        #expect(saves.map(\.0) == Array(repeating: document, count: 5))
        #expect(saves.map(\.1) == chunks.map { [$0.hash] })
        // Disconnected after all of them: nothing holds the document any more.
        #expect(await repo.loadedDocuments.isEmpty)
    }

    @Test func aConnectionsPipelineIsBounded() async throws {
        let storage = GatedStorage()
        let (repo, recorder, connection) = await joined(storage)
        let document = DocumentId.random()
        await storage.close(document)
        // The first holds the document waiting for storage; the rest queue behind it.
        await repo.submit(sync(document, [change(1, after: [])]), from: connection)
        for _ in 1..<Repo.maxPipelinedMessages { await repo.submit(sync(document, []), from: connection) }
        let overflow = Task { await repo.submit(sync(DocumentId.random(), [change(1, after: [])]), from: connection) }
        try await eventually("the first save waits") { await storage.waitingSaves == 1 }
        // Even a message to another document waits for room.
        try await Task.sleep(for: .milliseconds(100))
        #expect(await storage.saves.isEmpty)
        #expect(await recorder.frames.count == 1)  // the `peer` reply
        await storage.open(document)
        try await withTimeout { await overflow.value }
        try await eventually("the last message is handled") { await storage.saves.count == 2 }
    }

    /// `receive` (what in-memory links use) still returns only once the message is handled.
    @Test func receiveWaitsUntilTheMessageIsHandled() async throws {
        let storage = GatedStorage()
        let (repo, recorder, connection) = await joined(storage)
        let document = DocumentId.random()
        let chunk = change(1, after: [])
        await repo.receive(sync(document, [chunk]), from: connection)
        #expect(await storage.saves.map(\.1) == [[chunk.hash]])
        #expect(await recorder.lastHeads(of: document) == [chunk.hash])
    }
}

/// `Repo.Configuration.syncStateInterval`: a peer's sync state is written at most once per interval
/// by the debounced flushes, and always when the peer leaves or the server stops.
@Suite struct SyncStateIntervalTests {
    let actor = ActorId(Array(repeating: 0xa1, count: 16))

    @Test(arguments: [false, true])
    func syncStatesAreThrottled(throttled: Bool) async throws {
        let storage = InMemoryRepoStorage(storageId: "server-storage")
        let repo = Repo(
            configuration: .init(
                peerId: "server",
                sharePolicy: .requestsOnly,
                syncStateInterval: throttled ? .seconds(3600) : .zero,
                clock: TestClock()
            ),
            storage: storage
        )
        let client = await RepoClient.scripted(to: repo, peerId: "a", storageId: "storage-a")
        _ = try await client.join()
        let document = DocumentId.random()
        func stored() async throws -> [ChangeHash]? {
            guard let bytes = await storage.loadSyncState(of: document, peer: "storage-a") else { return nil }
            return try SyncState(decoding: bytes).sharedHeads
        }
        try await client.change(document, key: "k", value: 1, actor: actor)
        try await client.sync(document)
        await repo.flush(final: false)
        let first = await client.heads(of: document)
        // Throttled, even the first write waits (a random part of the interval): documents opened
        // together do not write their sync states together.
        #expect(try await stored() == (throttled ? nil : first))
        #expect(await storage.syncStateWrites == (throttled ? 0 : 1))

        try await client.change(document, key: "k", value: 2, actor: actor)
        try await client.sync(document)
        await repo.flush(final: false)
        let second = await client.heads(of: document)
        #expect(second != first)
        #expect(try await stored() == (throttled ? nil : second))
        #expect(await storage.syncStateWrites == (throttled ? 0 : 2))

        // Leaving (or stopping) writes what is still due.
        await client.close()
        #expect(try await stored() == second)
        #expect(await storage.syncStateWrites == (throttled ? 1 : 2))
    }

    /// A sync state is written after the document's lock is let go: a peer's next change is stored
    /// and acknowledged while the write is still in progress.
    @Test func syncStateWritesDoNotHoldTheDocument() async throws {
        let storage = GatedStorage()
        let repo = Repo(
            configuration: .init(peerId: "server", sharePolicy: .requestsOnly, syncStateInterval: .zero, clock: TestClock()),
            storage: storage
        )
        let client = await RepoClient.scripted(to: repo, peerId: "a", storageId: "storage-a")
        _ = try await client.join()
        let document = DocumentId.random()
        try await client.change(document, key: "k", value: 1, actor: actor)
        try await client.sync(document)
        await storage.closeSyncStates()
        let flush = Task { await repo.flush(final: false) }
        try await eventually("the flush is writing the sync state") { await storage.syncStateWritesStarted == 1 }

        try await withTimeout(.seconds(120), "a change while a sync state is written") {
            try await client.change(document, key: "k", value: 2, actor: actor)
            try await client.sync(document)
        }
        let heads = await client.heads(of: document)
        #expect(await repo.heads(of: document) == heads)
        #expect(await storage.inner.saveCount == 2)
        // The write in progress is the first change's state; it completes once let go.
        #expect(await storage.inner.syncStateWrites == 0)
        await storage.openSyncStates()
        await flush.value
        #expect(await storage.inner.syncStateWrites == 1)
    }
}
