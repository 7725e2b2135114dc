import AutomergeCore
import TestSupport
import Testing

@testable import AutomergeRepo

/// Issue 14 (c): a large change a peer uploads is held once on its way to disk and not kept in memory
/// afterwards; other peers still get it (read back from storage), and the uploader is not sent it back.
@Suite struct LargeReceivedChangeTests {
    @Test func largeUploadIsServedFromStorageAndNotEchoed() async throws {
        let server = try LargeDocumentTests.Server()
        defer { server.directory.remove() }
        let document = DocumentId.random()
        var builder = DocumentBuilder(actorByte: 5)
        for size in [150_000, 200, 120_000] { try builder.addChange(payloadBytes: size) }
        let chunks = builder.graph.allHashes.compactMap { builder.graph.chunk(for: $0) }

        let uploader = await RepoClient.scripted(to: server.repo, peerId: "uploader")
        _ = try await uploader.join()
        // Every change, our heads, and a Bloom filter that says nothing: what attack (c) sends.
        let upload = SyncMessage(version: .v1, heads: builder.graph.heads, need: [], have: [SyncHave()], changes: chunks.map(\.bytes))
        await LargeDocumentTests.request(uploader, document, upload, asRequest: false)
        let answers = try await uploader.collect { if case .sync = $0 { true } else { false } }
        let replies = try LargeDocumentTests.syncReplies(answers)
        #expect(replies.allSatisfy { $0.changes.isEmpty }, "the uploader was sent its own changes back")
        #expect(await server.repo.heads(of: document) == builder.graph.heads)

        // The uploader stays connected, so the document stays loaded: a V1 peer gets every change,
        // the large ones read back from storage.
        let reader = await RepoClient.scripted(to: server.repo, peerId: "reader")
        _ = try await reader.join()
        await LargeDocumentTests.request(
            reader,
            document,
            SyncMessage(version: .v1, heads: [], need: [], have: [SyncHave()], changes: [], trailer: nil)
        )
        let received = try await reader.collect { message in
            guard case .sync(let sync) = message, let reply = try? SyncMessage.decode(sync.data) else { return false }
            return !reply.changes.isEmpty
        }
        let reply = try #require(try LargeDocumentTests.syncReplies(received).last)
        #expect(Set(reply.changes) == Set(chunks.map(\.bytes)))
    }

    /// A peer already syncing the document gets the large changes in the fan-out (they are let go
    /// only after it), and the document's later history still reaches a new peer.
    @Test func peersAlreadySyncingGetALargeUploadInTheFanOut() async throws {
        let server = try LargeDocumentTests.Server()
        defer { server.directory.remove() }
        let document = DocumentId.random()
        var builder = DocumentBuilder(actorByte: 6)
        for size in [100_000, 90_000] { try builder.addChange(payloadBytes: size) }
        let chunks = builder.graph.allHashes.compactMap { builder.graph.chunk(for: $0) }

        let watcher = await RepoClient.scripted(to: server.repo, peerId: "watcher")
        _ = try await watcher.join()
        let nothing = SyncMessage(version: .v1, heads: [], need: [], have: [SyncHave()], changes: [], trailer: nil)
        await LargeDocumentTests.request(watcher, document, nothing)
        _ = try await watcher.collect { if case .docUnavailable = $0 { true } else { false } }

        let uploader = await RepoClient.scripted(to: server.repo, peerId: "uploader")
        _ = try await uploader.join()
        let upload = SyncMessage(version: .v1, heads: builder.graph.heads, need: [], have: [SyncHave()], changes: chunks.map(\.bytes))
        await LargeDocumentTests.request(uploader, document, upload, asRequest: false)
        let fanOut = try await watcher.collect { message in
            guard case .sync(let sync) = message, let reply = try? SyncMessage.decode(sync.data) else { return false }
            return !reply.changes.isEmpty
        }
        let delivered = try #require(try LargeDocumentTests.syncReplies(fanOut).last)
        #expect(Set(delivered.changes) == Set(chunks.map(\.bytes)))

        // After the fan-out the bytes are gone from memory; one more change and a new peer still
        // gets the whole history.
        try builder.addChange(payloadBytes: 10)
        let last = try #require(builder.graph.chunk(for: builder.graph.heads[0]))
        await LargeDocumentTests.request(
            uploader,
            document,
            SyncMessage(version: .v1, heads: builder.graph.heads, need: [], have: [SyncHave()], changes: [last.bytes]),
            asRequest: false
        )
        let heads = builder.graph.heads
        let repo = server.repo
        try await eventually("the last change is applied") { await repo.heads(of: document) == heads }
        let reader = await RepoClient.scripted(to: server.repo, peerId: "reader")
        _ = try await reader.join()
        await LargeDocumentTests.request(reader, document, nothing)
        let received = try await reader.collect { message in
            guard case .sync(let sync) = message, let reply = try? SyncMessage.decode(sync.data) else { return false }
            return !reply.changes.isEmpty
        }
        let reply = try #require(try LargeDocumentTests.syncReplies(received).last)
        #expect(Set(reply.changes) == Set(builder.graph.allHashes.compactMap { builder.graph.chunk(for: $0)?.bytes }))
    }
}
