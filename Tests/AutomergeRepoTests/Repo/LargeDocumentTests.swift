import AutomergeCore
import Crypto
import Foundation
import TestSupport
import Testing

@testable import AutomergeRepo

/// Whole documents served from the stored files, received whole documents stored as they came, and a
/// whole document never queued twice for a peer that has not read the first.
@Suite struct LargeDocumentTests {
    struct Server {
        let directory: TemporaryDirectory
        let storage: NodeFSRepoStorage
        let repo: Repo

        init() throws {
            directory = try TemporaryDirectory()
            storage = try NodeFSRepoStorage(directory: directory.url, compactionGate: CompactionGate())
            repo = Repo(configuration: .init(peerId: "server", sharePolicy: .requestsOnly, syncDebounce: .milliseconds(10)), storage: storage)
        }

        /// The document's chunk files as stored: snapshots, then incrementals, each sorted by name.
        func storedFiles(_ id: DocumentId) throws -> [UInt8] {
            let folder = StorageKey.prefix(id).relativePath
            var bytes: [UInt8] = []
            for kind in ["snapshot", "incremental"] {
                for name in directory.list("\(folder)/\(kind)") { bytes += try directory.read("\(folder)/\(kind)/\(name)") }
            }
            return bytes
        }
    }

    static func request(_ client: RepoClient, _ document: DocumentId, _ message: SyncMessage, asRequest: Bool = true) async {
        let payload = DocumentSyncMessage(senderId: client.peerId, targetId: "server", documentId: document.string, data: message.encode())
        await client.send(asRequest ? .request(payload) : .sync(payload))
    }

    static func syncReplies(_ messages: [RepoMessage]) throws -> [SyncMessage] {
        try messages.compactMap { message in
            guard case .sync(let sync) = message else { return nil }
            return try SyncMessage.decode(sync.data)
        }
    }

    /// A snapshot plus incrementals on disk: pushed, compacted, then a few more changes.
    static func pushLargeDocument(_ server: Server, _ document: DocumentId) async throws -> (RepoClient, DocumentBuilder) {
        let writer = await RepoClient.scripted(to: server.repo, peerId: "writer")
        _ = try await writer.join()
        var builder = DocumentBuilder(actorByte: 3)
        for _ in 0..<12 { try builder.addChange(payloadBytes: 200) }
        await writer.setDocument(document, graph: builder.graph)
        try await writer.sync(document)
        await server.storage.documents.waitForCompactions()
        for _ in 0..<3 {
            try builder.addChange(payloadBytes: 40)
            await writer.setDocument(document, graph: builder.graph)
            try await writer.sync(document)
        }
        await server.storage.documents.waitForCompactions()
        let folder = StorageKey.prefix(document).relativePath
        #expect(server.directory.list("\(folder)/snapshot").count == 1)
        #expect(server.directory.list("\(folder)/incremental").count == 3)
        return (writer, builder)
    }

    @Test func freshV2PeerGetsTheStoredFilesAsTheyAre() async throws {
        let server = try Server()
        defer { server.directory.remove() }
        let document = DocumentId.random()
        let (_, builder) = try await Self.pushLargeDocument(server, document)

        // A fresh server process: nothing in memory, the files are all there is.
        let restarted = Repo(
            configuration: .init(peerId: "server", sharePolicy: .requestsOnly),
            storage: try NodeFSRepoStorage(directory: server.directory.url, compactionGate: CompactionGate())
        )
        let reader = await RepoClient.scripted(to: restarted, peerId: "reader")
        _ = try await reader.join()
        var graph = ChangeGraph()
        var state = SyncState()
        await Self.request(reader, document, try #require(graph.generateSyncMessage(&state)))
        let replies = try Self.syncReplies(await reader.drain())
        let whole = try #require(replies.first { !$0.changes.isEmpty })
        #expect(whole.version == .v2)
        #expect(whole.changes == [try server.storedFiles(document)])
        #expect(whole.changes.first?[8] == 0, "the snapshot's document chunk comes first")
        #expect(whole.heads == builder.graph.heads)
        try graph.receiveSyncMessage(&state, whole)
        #expect(graph.heads == builder.graph.heads)
        #expect(graph.count == builder.graph.count)
        #expect(try graph.makeOpSet().json() == (try builder.graph.makeOpSet().json()))
        // The reader's "now I have it" needs no answer; the session carries on as usual afterwards:
        // a new change from another peer reaches it.
        if let next = graph.generateSyncMessage(&state) { await Self.request(reader, document, next, asRequest: false) }
        #expect(await reader.drain().isEmpty)
        await reader.setDocument(document, graph: graph, syncState: state)
        let writer = await RepoClient.scripted(to: restarted, peerId: "late-writer")
        _ = try await writer.join()
        await writer.setDocument(document, graph: builder.graph)
        try await writer.change(document, key: "late", value: 1, actor: ActorId(Array(repeating: 0x77, count: 16)))
        try await writer.sync(document)
        for _ in 0..<20 {
            if await reader.heads(of: document) == writer.heads(of: document) { break }
            // The server's debounced fan-out tells the reader.
            await reader.waitForFrame()
            try await reader.sync(document)
        }
        #expect(await reader.heads(of: document) == writer.heads(of: document))
    }

    @Test func v1OnlyPeerGetsEveryChange() async throws {
        let server = try Server()
        defer { server.directory.remove() }
        let document = DocumentId.random()
        let (_, builder) = try await Self.pushLargeDocument(server, document)
        let old = await RepoClient.scripted(to: server.repo, peerId: "old")
        _ = try await old.join()
        // No trailer: a peer that only speaks V1.
        await Self.request(old, document, SyncMessage(version: .v1, heads: [], need: [], have: [SyncHave()], changes: [], trailer: nil))
        let replies = try Self.syncReplies(await old.drain())
        let reply = try #require(replies.first { !$0.changes.isEmpty })
        #expect(reply.version == .v1)
        #expect(reply.changes.count == builder.graph.count)
        #expect(reply.changes.allSatisfy { $0[8] == 1 })
        #expect(Set(reply.changes) == Set(builder.graph.allHashes.compactMap { builder.graph.chunk(for: $0)?.bytes }))
    }

    /// Issue 14: a peer that keeps saying "I have nothing" before reading the whole document it was
    /// sent is not sent it again (today's code queued it once per message).
    @Test func wholeDocumentIsNotResentToAPeerThatHasNotReadIt() async throws {
        let server = try Server()
        defer { server.directory.remove() }
        let document = DocumentId.random()
        _ = try await Self.pushLargeDocument(server, document)
        let greedy = await RepoClient.scripted(to: server.repo, peerId: "greedy")
        _ = try await greedy.join()
        let nothing = SyncMessage(version: .v1, heads: [], need: [], have: [SyncHave()], changes: [], trailer: .current([.supportsSyncReset]))
        await Self.request(greedy, document, nothing)
        for _ in 0..<5 { await Self.request(greedy, document, nothing, asRequest: false) }
        let replies = try Self.syncReplies(await greedy.drain())
        #expect(replies.filter { !$0.changes.isEmpty }.count == 1)
        // A peer that had the document and lost it (its heads went from some to none) gets it again.
        let lost = await RepoClient.scripted(to: server.repo, peerId: "lost")
        _ = try await lost.join()
        await Self.request(lost, document, nothing)
        let first = try #require(try Self.syncReplies(await lost.drain()).first { !$0.changes.isEmpty })
        var graph = ChangeGraph()
        var state = SyncState()
        try graph.receiveSyncMessage(&state, first)
        await Self.request(lost, document, try #require(graph.generateSyncMessage(&state)), asRequest: false)
        _ = await lost.drain()
        await Self.request(lost, document, nothing, asRequest: false)
        #expect(try Self.syncReplies(await lost.drain()).contains { !$0.changes.isEmpty })
    }

    /// A whole document pushed to a server that lacks it is stored byte for byte as the snapshot.
    @Test func receivedWholeDocumentIsStoredByteIdentical() async throws {
        let server = try Server()
        defer { server.directory.remove() }
        let document = DocumentId.random()
        var builder = DocumentBuilder(actorByte: 5)
        for _ in 0..<20 { try builder.addChange(payloadBytes: 100) }
        let saved = try builder.graph.saveDocument()
        let pusher = await RepoClient.scripted(to: server.repo, peerId: "pusher")
        _ = try await pusher.join()
        let push = SyncMessage(
            version: .v2,
            heads: builder.graph.heads,
            need: [],
            have: [SyncHave()],
            changes: [saved],
            trailer: .current([.supportsSyncReset])
        )
        await Self.request(pusher, document, push, asRequest: false)
        _ = await pusher.drain()
        await server.storage.documents.waitForCompactions()
        let folder = StorageKey.prefix(document).relativePath
        #expect(server.directory.list("\(folder)/snapshot") == [NodeFSKeyHash.snapshotName(heads: builder.graph.heads)])
        #expect(server.directory.list("\(folder)/incremental").isEmpty)
        #expect(try server.storedFiles(document) == saved)
    }

    /// A received document that does not verify (a flipped byte in a column, wrong heads, a missing
    /// dep) is refused with an error naming why, and the data directory is exactly as it was.
    @Test func tamperedWholeDocumentsAreRefused() async throws {
        var builder = DocumentBuilder(actorByte: 6)
        for _ in 0..<20 { try builder.addChange(payloadBytes: 100) }
        let saved = try builder.graph.saveDocument(compression: .none)
        let chunk = try #require(try ChunkReader.readAll(saved).first)
        guard case .document(let documentBytes) = chunk else { throw UnexpectedReply("not a document") }
        let parsed = try DocumentChunk(documentBytes)
        // Where the heads are: after the actor table, a count then 32-byte hashes.
        let headStart = try #require(saved.firstRange(of: parsed.heads[0].bytes)?.lowerBound)
        var wrongHeads = saved
        wrongHeads[headStart] ^= 0x01
        // A byte in the op columns (the end of the chunk, before the head indexes).
        var flipped = saved
        flipped[saved.count - 40] ^= 0x04
        // A change stripped of its dep: it no longer hashes to what the next change and the heads name.
        var stored = try StoredDocument(bytes: saved)
        stored.changes[10].dependencies = []
        let missingDep = try stored.write(compression: .none)

        let server = try Server()
        defer { server.directory.remove() }
        // Something already stored, so "as it was" is not just "empty".
        let existing = DocumentId.random()
        let owner = await RepoClient.scripted(to: server.repo, peerId: "owner")
        _ = try await owner.join()
        let push = SyncMessage(version: .v2, heads: builder.graph.heads, need: [], have: [SyncHave()], changes: [saved], trailer: .current([]))
        await Self.request(owner, existing, push, asRequest: false)
        _ = await owner.drain()
        await server.storage.documents.waitForCompactions()
        let before = try server.directory.tree()
        #expect(before.count >= 2)

        for (name, bytes) in [
            ("wrong heads", Self.resealed(wrongHeads)), ("flipped column byte", Self.resealed(flipped)), ("missing dep", missingDep),
        ] {
            let document = DocumentId.random()
            let pusher = await RepoClient.scripted(to: server.repo, peerId: "pusher-\(name.count)")
            _ = try await pusher.join()
            let push = SyncMessage(version: .v2, heads: [], need: [], have: [SyncHave()], changes: [bytes], trailer: .current([]))
            await Self.request(pusher, document, push, asRequest: false)
            let replies = await pusher.drain()
            let errors = replies.compactMap { if case .error(let error) = $0 { error.message } else { nil } }
            #expect(errors.count == 1 && errors[0].hasPrefix("invalid sync message:"), "\(name): \(errors)")
            if name != "flipped column byte" {
                #expect(errors.first?.contains(AutomergeError.mismatchingHeads.description) == true, "\(name): \(errors)")
            }
            await server.storage.documents.waitForCompactions()
            #expect(try server.directory.tree() == before, "\(name)")
        }
    }

    /// The bytes with the chunk checksum recomputed, so only the deeper checks can catch the change.
    static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var sealed = bytes
        let digest = Array(SHA256.hash(data: bytes[8...]))
        sealed.replaceSubrange(4..<8, with: digest[0..<4])
        return sealed
    }
}

extension LargeDocumentTests {
    /// A peer that lacks a few old changes (inside the snapshot, whose bytes the server does not keep)
    /// gets exactly those, rebuilt byte-exact from the snapshot, plus the newer ones it lacks.
    @Test func peerLackingSomeOldChangesGetsExactlyThoseRebuilt() async throws {
        let server = try Server()
        defer { server.directory.remove() }
        let document = DocumentId.random()
        let (_, builder) = try await Self.pushLargeDocument(server, document)
        let all = builder.graph.allHashes.compactMap { builder.graph.chunk(for: $0) }
        #expect(all.count == 15)

        let restarted = Repo(
            configuration: .init(peerId: "server", sharePolicy: .requestsOnly),
            storage: try NodeFSRepoStorage(directory: server.directory.url, compactionGate: CompactionGate())
        )
        let behind = await RepoClient.scripted(to: restarted, peerId: "behind")
        _ = try await behind.join()
        var graph = ChangeGraph()
        try graph.add(Array(all.prefix(10)))
        var state = SyncState()
        var received: [[UInt8]] = []
        for _ in 0..<6 {
            if let message = graph.generateSyncMessage(&state) { await Self.request(behind, document, message, asRequest: false) }
            let replies = try Self.syncReplies(await behind.drain(quiet: .milliseconds(80)))
            if replies.isEmpty { break }
            for reply in replies {
                for entry in reply.changes {
                    received += try ChunkReader.readAll(entry).compactMap { if case .change(let c) = $0 { c.bytes } else { nil } }
                }
                try graph.receiveSyncMessage(&state, reply)
            }
        }
        #expect(received.count == 5)
        #expect(Set(received) == Set(all.suffix(5).map(\.bytes)))
        #expect(graph.heads == builder.graph.heads)
    }
}

extension LargeDocumentTests {
    /// No peer waits for a compaction: while the process's compaction gate is taken (another
    /// document compacting), every change is still stored, acknowledged and relayed; the queued
    /// compaction runs once the gate is free and loses nothing.
    @Test func peersKeepSyncingWhileCompactionWaits() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let gate = CompactionGate()
        let storage = try NodeFSRepoStorage(directory: directory.url, compactionGate: gate)
        let repo = Repo(configuration: .init(peerId: "server", sharePolicy: .requestsOnly, syncDebounce: .milliseconds(10)), storage: storage)
        let writer = await RepoClient.scripted(to: repo, peerId: "writer")
        let reader = await RepoClient.scripted(to: repo, peerId: "reader")
        _ = try await writer.join()
        _ = try await reader.join()
        let document = DocumentId.random()
        let actor = ActorId(Array(repeating: 0x42, count: 16))
        await gate.acquire()
        for value in 1...8 {
            try await writer.change(document, key: "k\(value)", value: Int64(value), actor: actor)
            try await writer.sync(document)
        }
        #expect(await repo.heads(of: document) == writer.heads(of: document))
        try await reader.sync(document, asRequest: true)
        #expect(await reader.heads(of: document) == writer.heads(of: document))
        let folder = StorageKey.prefix(document).relativePath
        #expect(directory.list("\(folder)/snapshot").isEmpty, "the compaction is still waiting")
        #expect(directory.list("\(folder)/incremental").count == 8)
        await gate.release()
        await storage.documents.waitForCompactions()
        #expect(directory.list("\(folder)/snapshot").count == 1)
        #expect(directory.list("\(folder)/incremental").isEmpty)
        let reloaded = try #require(try await DocumentStore(storage: try NodeFSStorage(directory: directory.url)).loadDocument(document))
        #expect(await reloaded.heads == writer.heads(of: document))
        #expect(await gate.peakConcurrency == 1)
    }
}
