import AutomergeCore
import Logging
import TestSupport
import Testing

@testable import AutomergeRepo

/// How a document leaves memory: it retires itself only when idle, in one step, takes no work
/// once retired, and the synchronizer that replaces it reads storage only after it let go.
///
/// (The repo used to ask "idle?" and evict on the answer; a request that reached the document in
/// between was answered from the emptied document: `doc-unavailable` for a stored document.)
@Suite struct DocumentRetirementTests {
    let actor = ActorId(Array(repeating: 0x3c, count: 16))

    private func synchronizer(_ id: DocumentId, _ storage: GatedStorage, after predecessor: DocumentSynchronizer? = nil) -> DocumentSynchronizer {
        DocumentSynchronizer(
            id: id,
            repoPeerId: "server",
            storage: storage,
            debounce: .seconds(30),
            clock: TestClock(),
            logger: Logger(label: "test"),
            predecessor: predecessor
        )
    }

    private func link(_ recorder: Recorder) -> PeerLink {
        PeerLink(peerId: "peer", connectionId: RepoConnectionID(rawValue: 1), connection: recorder, storageId: nil, isEphemeral: true)
    }

    private func change() -> ChangeChunk {
        Change(deps: [], actor: actor, seq: 1, startOp: 1, time: 0, ops: [Op(object: .root, key: .map("k"), action: .put, value: .int(1))])
            .encodeChunk()
    }

    /// Submits a message and returns a task that ends once it is handled (nil if it was refused).
    private func submit(
        _ message: SyncMessage,
        isRequest: Bool = false,
        to document: DocumentSynchronizer,
        from link: PeerLink
    ) async -> Task<Void, Never>? {
        let (handled, done) = AsyncStream<Void>.makeStream()
        let inbound = DocumentSynchronizer.Inbound(message: message, link: link, isRequest: isRequest) { _ in done.yield() }
        guard await document.submit(inbound) else { return nil }
        return Task {
            for await _ in handled { return }
        }
    }

    @Test func aDocumentRetiresOnlyWhenNothingHoldsIt() async throws {
        let storage = GatedStorage()
        let id = DocumentId.random()
        let document = synchronizer(id, storage)
        let recorder = Recorder()
        let chunk = change()
        await storage.close(id)
        let handled = try #require(await submit(SyncMessage(heads: [chunk.hash], changes: [chunk.bytes]), to: document, from: link(recorder)))
        try await eventually("the save waits") { await storage.waitingSaves == 1 }
        #expect(await document.retireIfIdle() == false, "a message is being handled")
        await storage.open(id)
        try await withTimeout { await handled.value }
        #expect(await document.retireIfIdle() == false, "a peer has it open")
        await document.removePeer("peer", connection: RepoConnectionID(rawValue: 1))
        #expect(await document.retireIfIdle())
        #expect(await document.retireIfIdle() == false, "retired once")
    }

    @Test func aRetiredDocumentTakesNoMoreWork() async throws {
        let storage = GatedStorage()
        let id = DocumentId.random()
        await storage.inner.saveChanges([change()], of: id)
        let document = synchronizer(id, storage)
        #expect(await document.retireIfIdle())
        let recorder = Recorder()
        var state = SyncState()
        let request = try #require(ChangeGraph().generateSyncMessage(&state))
        #expect(await submit(request, isRequest: true, to: document, from: link(recorder)) == nil)
        #expect(await document.requestOrSync(with: link(recorder)) == false)
        await document.announce(to: link(recorder))
        await document.flush(final: true)
        #expect(await recorder.frames.isEmpty)
        #expect(await document.isRetired)
    }

    @Test func aNewSynchronizerReadsStorageOnlyOnceTheRetiredOneLetGo() async throws {
        let storage = GatedStorage()
        let id = DocumentId.random()
        let chunk = change()
        await storage.inner.saveChanges([chunk], of: id)
        let retired = synchronizer(id, storage)
        await storage.closeReleases()
        #expect(await retired.retireIfIdle())
        try await eventually("the release waits") { await storage.waitingReleases == 1 }

        let successor = synchronizer(id, storage, after: retired)
        let recorder = Recorder()
        var state = SyncState()
        let request = try #require(ChangeGraph().generateSyncMessage(&state))
        let handled = try #require(await submit(request, isRequest: true, to: successor, from: link(recorder)))
        // Nothing is read while the predecessor still holds storage's record of the document.
        try await Task.sleep(for: .milliseconds(50))
        #expect(await storage.events.isEmpty)
        await storage.openReleases()
        try await withTimeout { await handled.value }
        #expect(await storage.events.first == "release")
        #expect(await storage.events.contains("load"))
        #expect(await recorder.lastHeads(of: id) == [chunk.hash])
    }
}
