import AutomergeCore
import Foundation
import TestSupport
import Testing

@testable import AutomergeRepo

/// Issue 13: durable writes share group-commit rounds; a failed flush acknowledges nothing of its
/// batch; compaction never sits on the acknowledgement path.
@Suite struct GroupCommitTests {
    /// The real file system, with fsyncs that can be slowed down or made to fail, and renames onto
    /// snapshot files that can be held (a compaction stuck on a slow disk).
    final class ControlledFileSystem: ForwardingFileSystem, @unchecked Sendable {
        let real = PosixFileSystem()
        private let lock = NSLock()
        private var failingSyncs = 0
        private var syncDelay: UInt32 = 0
        private let snapshotRenames = DispatchSemaphore(value: 0)
        private var holdSnapshots = false
        private(set) var heldSnapshotRenames = 0

        /// The next `count` fsyncs (files, directories, file systems) fail with EIO.
        func failNextSyncs(_ count: Int) { lock.withLock { failingSyncs = count } }
        func slowSyncs(microseconds: UInt32) { lock.withLock { syncDelay = microseconds } }
        func holdSnapshotRenames() { lock.withLock { holdSnapshots = true } }
        func releaseSnapshotRenames() {
            let held = lock.withLock {
                holdSnapshots = false
                return heldSnapshotRenames
            }
            for _ in 0..<held { snapshotRenames.signal() }
        }
        var snapshotRenamesWaiting: Int { lock.withLock { heldSnapshotRenames } }

        private func beforeSync(_ path: String) throws(StorageError) {
            let (fail, delay) = lock.withLock { () -> (Bool, UInt32) in
                if failingSyncs > 0 {
                    failingSyncs -= 1
                    return (true, syncDelay)
                }
                return (false, syncDelay)
            }
            if delay > 0 { usleep(delay) }
            if fail { throw .io(operation: "fsync (injected)", path: path, errno: EIO, reason: "Input/output error") }
        }

        func sync(_ descriptor: Int32, path: String) throws(StorageError) {
            try beforeSync(path)
            try real.sync(descriptor, path: path)
        }
        func rename(_ source: String, to destination: String) throws(StorageError) {
            let hold = lock.withLock {
                guard holdSnapshots, destination.contains("/snapshot/") else { return false }
                heldSnapshotRenames += 1
                return true
            }
            if hold { snapshotRenames.wait() }
            lock.withLock { renamed.append(destination) }
            try real.rename(source, to: destination)
        }
        func link(_ descriptor: Int32, to path: String) throws(StorageError) {
            lock.withLock { linked.append(path) }
            try real.link(descriptor, to: path)
        }
        /// Where renames and links put files, in order.
        private var renamed: [String] = []
        private var linked: [String] = []
        var renames: [String] { lock.withLock { renamed } }
        var links: [String] { lock.withLock { linked } }
        func syncDirectory(_ path: String) throws(StorageError) {
            try beforeSync(path)
            try real.syncDirectory(path)
        }
        func syncFileSystem(_ path: String) throws(StorageError) {
            try beforeSync(path)
            try real.syncFileSystem(path)
        }
    }

    struct Setup {
        let directory: TemporaryDirectory
        let fileSystem = ControlledFileSystem()
        let commits: GroupCommit
        let storage: NodeFSStorage
        let store: DocumentStore

        init(mode: GroupCommit.FlushMode = .files) throws {
            directory = try TemporaryDirectory()
            commits = GroupCommit(mode: mode)
            storage = try NodeFSStorage(directory: directory.url, fileSystem: fileSystem, commits: commits)
            store = DocumentStore(storage: storage, gate: CompactionGate())
        }
    }

    /// One change per document, each on its own builder.
    static func changes(count: Int, actorByte: UInt8 = 1) throws -> [ChangeChunk] {
        var builder = DocumentBuilder(actorByte: actorByte)
        return try (0..<count).map { _ in try builder.addChange() }
    }

    /// Appends straight to the storage, as `DocumentStore.save` does, without the compactions a
    /// store starts (which write and delete files of their own).
    static func appendConcurrently(_ storage: NodeFSStorage, _ saves: [(DocumentId, ChangeChunk)]) async -> [Bool] {
        await withTaskGroup(of: (Int, Bool).self) { group in
            for (index, (id, chunk)) in saves.enumerated() {
                group.addTask { (index, (try? await storage.saveIncremental(id, chunk.bytes)) != nil) }
            }
            var results = [Bool](repeating: false, count: saves.count)
            for await (index, ok) in group { results[index] = ok }
            return results
        }
    }

    static func saveConcurrently(_ store: DocumentStore, _ saves: [(DocumentId, ChangeChunk)]) async -> [Bool] {
        await withTaskGroup(of: (Int, Bool).self) { group in
            for (index, (id, chunk)) in saves.enumerated() {
                group.addTask {
                    do {
                        try await store.save(id, chunks: [chunk])
                        return (index, true)
                    } catch {
                        return (index, false)
                    }
                }
            }
            var results = [Bool](repeating: false, count: saves.count)
            for await (index, ok) in group { results[index] = ok }
            return results
        }
    }

    @Test(arguments: GroupCommit.FlushMode.allCases)
    func concurrentSavesShareRounds(mode: GroupCommit.FlushMode) async throws {
        let setup = try Setup(mode: mode)
        defer { setup.directory.remove() }
        // A slow disk: writes pile up behind the round in flight and join the next one.
        setup.fileSystem.slowSyncs(microseconds: 20_000)
        let documents = (0..<24).map { _ in DocumentId.random() }
        var saves: [(DocumentId, ChangeChunk)] = []
        for (index, id) in documents.enumerated() { saves.append((id, try Self.changes(count: 1, actorByte: UInt8(index + 1))[0])) }
        let results = await Self.appendConcurrently(setup.storage, saves)
        #expect(results.allSatisfy { $0 })
        let totals = await setup.commits.totals
        #expect(totals.writes == documents.count)
        #expect(totals.rounds < documents.count, "24 concurrent saves took \(totals.rounds) rounds")
        if mode == .fileSystem {
            // Two flushes a round, whatever its size.
            #expect(totals.fsyncs == 2 * totals.rounds)
            #expect(totals.fsyncs < documents.count)
        }
        // Every acknowledged change is on disk, in the NodeFS layout, and nothing is left in .tmp.
        let reopened = DocumentStore(storage: try NodeFSStorage(directory: setup.directory.url), gate: CompactionGate())
        for (id, chunk) in saves {
            let graph = try #require(try await reopened.loadDocument(id))
            #expect(graph.heads == [chunk.hash])
            #expect(setup.directory.list("\(StorageKey.prefix(id).relativePath)/incremental").count == 1)
        }
        #expect(setup.directory.list(".tmp").isEmpty)
    }

    /// With `syncfs` a new file is written with no name and linked to its name once durable: no
    /// temporary name, no rename. A name already taken (here a torn file, as a crash of a server that
    /// writes in place leaves) is replaced, as a rename would.
    @Test func syncfsNamesNewFilesOnlyOnceDurable() async throws {
        let setup = try Setup(mode: .fileSystem)
        defer { setup.directory.remove() }
        let id = DocumentId.random()
        let chunks = try Self.changes(count: 3)
        let folder = "\(StorageKey.prefix(id).relativePath)/incremental"
        let taken = NodeFSKeyHash.incrementalName(for: chunks[1].bytes)
        let folderURL = setup.directory.url.appendingPathComponent(folder)
        try FileManager.default.createDirectory(at: folderURL, withIntermediateDirectories: true)
        try Data(chunks[1].bytes.prefix(7)).write(to: folderURL.appendingPathComponent(taken))

        // One at a time: a round each.
        for chunk in chunks { _ = try await setup.storage.saveIncremental(id, chunk.bytes) }

        let root = setup.directory.url.path
        let names = chunks.map { "\(root)/\(folder)/\(NodeFSKeyHash.incrementalName(for: $0.bytes))" }
        #expect(setup.fileSystem.renames == [names[1]])
        let links = setup.fileSystem.links
        #expect(links.count == 4)
        #expect(links.filter { !$0.contains("/.tmp/") } == names)
        for (name, chunk) in zip(names, chunks) { #expect(try Data(contentsOf: URL(fileURLWithPath: name)) == Data(chunk.bytes)) }
        #expect(setup.directory.list(".tmp").isEmpty)
        let graph = try #require(
            try await DocumentStore(storage: try NodeFSStorage(directory: setup.directory.url), gate: CompactionGate()).loadDocument(id)
        )
        #expect(graph.count == 3)
        #expect(await setup.commits.totals.fsyncs == 6)
    }

    @Test func changesToOneDocumentInOneRoundShareAFile() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let id = DocumentId.random()
        let chunks = try Self.changes(count: 12)
        setup.fileSystem.slowSyncs(microseconds: 20_000)
        let results = await Self.appendConcurrently(setup.storage, chunks.map { (id, $0) })
        #expect(results.allSatisfy { $0 })
        let totals = await setup.commits.totals
        #expect(totals.writes == 12)
        #expect(totals.files < 12)
        let folder = "\(StorageKey.prefix(id).relativePath)/incremental"
        let names = setup.directory.list(folder)
        #expect(names.count == totals.files)
        var total = 0
        for name in names {
            // Named as JS names an incremental: the SHA-256 of exactly its bytes (here several chunks).
            let bytes = try setup.directory.read("\(folder)/\(name)")
            #expect(name == NodeFSKeyHash.incrementalName(for: bytes))
            var reader = ChunkReader(bytes)
            while try reader.next() != nil { total += 1 }
        }
        #expect(total == 12)
        #expect(names.count < 12)
        let graph = try #require(
            try await DocumentStore(storage: try NodeFSStorage(directory: setup.directory.url), gate: CompactionGate()).loadDocument(id)
        )
        #expect(graph.count == 12)
    }

    @Test func failedFlushAcknowledgesNothingOfItsBatch() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let documents = (0..<6).map { _ in DocumentId.random() }
        // The documents exist already (their first save made their folders).
        for (index, id) in documents.enumerated() {
            try await setup.store.save(id, chunks: [try Self.changes(count: 1, actorByte: UInt8(index + 1))[0]])
        }
        await setup.store.waitForCompactions()
        var next: [(DocumentId, ChangeChunk)] = []
        for (index, id) in documents.enumerated() {
            var builder = DocumentBuilder(actorByte: UInt8(index + 1))
            try builder.addChange()
            next.append((id, try builder.addChange()))
        }
        // Every fsync of the next round fails: slow them so every save joins it, then fail them.
        setup.fileSystem.slowSyncs(microseconds: 30_000)
        setup.fileSystem.failNextSyncs(1000)
        let results = await Self.saveConcurrently(setup.store, next)
        #expect(results.allSatisfy { !$0 }, "a save was acknowledged although its flush failed")
        // The server goes on: the next saves succeed.
        setup.fileSystem.failNextSyncs(0)
        setup.fileSystem.slowSyncs(microseconds: 0)
        let retried = await Self.saveConcurrently(setup.store, next)
        #expect(retried.allSatisfy { $0 })
        // The compactions those saves started write into `.tmp` too; the check is about the rounds.
        await setup.store.waitForCompactions()
        let reopened = DocumentStore(storage: try NodeFSStorage(directory: setup.directory.url), gate: CompactionGate())
        for (id, chunk) in next { #expect(try await reopened.loadDocument(id)?.heads == [chunk.hash]) }
        #expect(setup.directory.list(".tmp").isEmpty)
    }

    @Test func oneFailingRootDoesNotFailAnother() async throws {
        let commits = GroupCommit()
        let healthy = try Setup()
        let failing = try Setup()
        defer {
            healthy.directory.remove()
            failing.directory.remove()
        }
        let good = try NodeFSStorage(directory: healthy.directory.url, fileSystem: healthy.fileSystem, commits: commits)
        let bad = try NodeFSStorage(directory: failing.directory.url, fileSystem: failing.fileSystem, commits: commits)
        failing.fileSystem.failNextSyncs(1000)
        healthy.fileSystem.slowSyncs(microseconds: 10_000)
        let id = DocumentId.random()
        let chunks = try Self.changes(count: 8)
        let outcomes = await withTaskGroup(of: (Bool, Bool).self) { group in
            for (index, chunk) in chunks.enumerated() {
                let storage = index.isMultiple(of: 2) ? good : bad
                group.addTask {
                    let ok = (try? await storage.saveIncremental(id, chunk.bytes)) != nil
                    return (index.isMultiple(of: 2), ok)
                }
            }
            var all: [(Bool, Bool)] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        #expect(outcomes.filter { $0.0 }.allSatisfy { $0.1 })
        #expect(outcomes.filter { !$0.0 }.allSatisfy { !$0.1 })
    }

    @Test func compactionIsNeverOnTheAcknowledgementPath() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let busy = DocumentId.random()
        let other = DocumentId.random()
        var builder = DocumentBuilder()
        var otherBuilder = DocumentBuilder(actorByte: 2)
        // A small document: the JS rule compacts it after every save. Its compaction gets stuck
        // writing the snapshot (a slow disk).
        setup.fileSystem.holdSnapshotRenames()
        try await setup.store.save(busy, chunks: [try builder.addChange()])
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(20)
        while setup.fileSystem.snapshotRenamesWaiting == 0 {
            try #require(clock.now < deadline, "the compaction never started")
            try await Task.sleep(for: .milliseconds(5))
        }
        // Meanwhile both the compacting document and another one keep saving, acknowledged at once.
        for _ in 0..<5 {
            try await setup.store.save(busy, chunks: [try builder.addChange()])
            try await setup.store.save(other, chunks: [try otherBuilder.addChange()])
        }
        #expect(setup.fileSystem.snapshotRenamesWaiting == 1)
        setup.fileSystem.releaseSnapshotRenames()
        await setup.store.waitForCompactions()
        let reopened = DocumentStore(storage: try NodeFSStorage(directory: setup.directory.url), gate: CompactionGate())
        #expect(try await reopened.loadDocument(busy)?.heads == builder.graph.heads)
        #expect(try await reopened.loadDocument(other)?.heads == otherBuilder.graph.heads)
    }
}

/// The same failure seen from the peers: the writer whose flush failed is told (the repo's error
/// path for a failed save) and never hears our heads include its change; other documents sync on.
@Suite struct FailedFlushRepoTests {
    @Test func failedFlushTellsThePeerAndOtherDocumentsSyncOn() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let fileSystem = GroupCommitTests.ControlledFileSystem()
        let files = try NodeFSStorage(directory: directory.url, fileSystem: fileSystem, commits: GroupCommit())
        let repo = Repo(
            configuration: .init(peerId: "server", sharePolicy: .requestsOnly, syncDebounce: .milliseconds(10)),
            storage: NodeFSRepoStorage(files: files, compactionGate: CompactionGate())
        )
        let failed = DocumentId.random()
        let healthy = DocumentId.random()
        let actor = ActorId([UInt8](repeating: 7, count: 16))

        let writer = await RepoClient.scripted(to: repo, peerId: "writer", storageId: "writer-storage")
        _ = try await writer.join()
        try await writer.change(failed, key: "a", value: 1, actor: actor)
        fileSystem.failNextSyncs(1000)
        try await writer.sync(failed)
        let errors = await writer.otherMessages.compactMap { if case .error(let error) = $0 { error } else { nil } }
        #expect(errors.count == 1)
        #expect(errors.first?.message == "the server could not store the document")
        // Nothing of it is acknowledged: the server's copy, read back, does not have the change.
        fileSystem.failNextSyncs(0)

        let other = await RepoClient.scripted(to: repo, peerId: "other", storageId: "other-storage")
        _ = try await other.join()
        try await other.change(healthy, key: "b", value: 2, actor: ActorId([UInt8](repeating: 8, count: 16)))
        try await other.sync(healthy)
        #expect(await !other.otherMessages.contains { if case .error = $0 { true } else { false } })
        let reader = await RepoClient.scripted(to: repo, peerId: "reader")
        _ = try await reader.join()
        try await reader.sync(healthy, asRequest: true)
        #expect(await reader.heads(of: healthy) == other.heads(of: healthy))
        try await reader.sync(failed, asRequest: true)
        let unacknowledged = try #require(await writer.heads(of: failed).first)
        #expect(await reader.heads(of: failed).contains(unacknowledged) != true)
    }
}
