import AutomergeCore
import Foundation
import TestSupport
import Testing

@testable import AutomergeRepo

/// Crashes injected at every file-system step of the write path: after each, a restarted storage loads
/// the directory and finds every change whose save had returned.
@Suite struct CrashSafetyTests {
    /// Overwriting one key: after a crash at any step the key holds the old bytes or the new ones, whole.
    @Test func overwriteIsAllOrNothingAtEveryStep() async throws {
        let key = try StorageKey(["AAAAA", "snapshot", "x"])
        let old = [UInt8](repeating: 1, count: 5000)
        let new = [UInt8](repeating: 2, count: 3000)
        var stepsInFullRun = 0
        var crashPoint = 0
        while true {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            try await NodeFSStorage(directory: directory.url).save(key, old)
            let fileSystem = CrashingFileSystem(crashAt: crashPoint)
            var acknowledged = false
            do {
                let storage = try NodeFSStorage(directory: directory.url, fileSystem: fileSystem)
                try await storage.save(key, new)
                acknowledged = true
            } catch {}
            if !fileSystem.crashed { stepsInFullRun = fileSystem.stepCount }

            let restarted = try NodeFSStorage(directory: directory.url)
            #expect(directory.list(".tmp").isEmpty, "crash at step \(crashPoint)")
            let stored = try await restarted.load(key)
            if acknowledged {
                #expect(stored == new, "crash at step \(crashPoint)")
            } else {
                #expect(stored == old || stored == new, "crash at step \(crashPoint)")
            }
            #expect(try await restarted.loadRange(try StorageKey(["AAAAA"])).count == 1)
            if !fileSystem.crashed { break }
            crashPoint += 1
        }
        // Start-up's mkdir of `.tmp` (already there), then create, write, fsync, close, rename, fsync of the
        // directory.
        #expect(stepsInFullRun == 7)
        #expect(crashPoint == 7)
    }

    /// What a server does to one document: a snapshot, incrementals until they outweigh it, a compaction
    /// (new snapshot, then deletions), more incrementals, a sync state. Returns the changes acknowledged
    /// before the first failure.
    private func runScenario(_ directory: TemporaryDirectory, _ fileSystem: CrashingFileSystem, id: DocumentId) async -> Set<ChangeHash> {
        var acknowledged: Set<ChangeHash> = []
        var builder = DocumentBuilder()
        do {
            // The production path: one incremental per save, compactions queued in the background.
            let store = DocumentStore(storage: try NodeFSStorage(directory: directory.url, fileSystem: fileSystem), gate: CompactionGate())
            for _ in 0..<6 { try builder.addChange(payloadBytes: 200) }
            try await store.save(id, chunks: builder.graph.allHashes.compactMap { builder.graph.chunk(for: $0) })
            acknowledged = Set(builder.graph.allHashes)
            await store.waitForCompactions()
            // Until a compaction has replaced the first snapshot.
            let snapshots = StorageKey.prefix(id).relativePath + "/snapshot"
            let firstSnapshots = directory.list(snapshots)
            for _ in 0..<100 where directory.list(snapshots) == firstSnapshots {
                let chunk = try builder.addChange(payloadBytes: 200)
                try await store.save(id, chunks: [chunk])
                acknowledged.insert(chunk.hash)
                await store.waitForCompactions()
                if let failure = await store.lastCompactionFailure(id) { throw failure }
            }
            for _ in 0..<2 {
                let chunk = try builder.addChange(payloadBytes: 200)
                try await store.save(id, chunks: [chunk])
                acknowledged.insert(chunk.hash)
                await store.waitForCompactions()
            }
            try await store.saveSyncState(id, storageId: "peer", bytes: SyncStateCodec.encode(sharedHeads: builder.graph.heads))
        } catch {}
        return acknowledged
    }

    @Test func documentSurvivesACrashAtEveryStep() async throws {
        let id = try documentId(1)
        // A full run first, to count the steps and check the scenario covers what it should.
        let reference = try TemporaryDirectory()
        defer { reference.remove() }
        let full = CrashingFileSystem()
        let everything = await runScenario(reference, full, id: id)
        let totalSteps = full.stepCount
        #expect(!everything.isEmpty)
        #expect(full.log.contains { $0.hasPrefix("unlink") && $0.contains("/incremental/") })
        #expect(full.log.contains { $0.hasPrefix("unlink") && $0.contains("/snapshot/") })
        #expect(full.log.contains { $0.hasPrefix("rename") && $0.contains("/sync-state/") })
        #expect(totalSteps > 50)

        var crashesAfterSomethingWasAcknowledged = 0
        for crashPoint in 0..<totalSteps {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let fileSystem = CrashingFileSystem(crashAt: crashPoint)
            let acknowledged = await runScenario(directory, fileSystem, id: id)
            #expect(fileSystem.crashed)

            let restarted = try NodeFSStorage(directory: directory.url)
            #expect(directory.list(".tmp").isEmpty)
            let store = DocumentStore(storage: restarted)
            let graph: ChangeGraph?
            do {
                graph = try await store.loadDocument(id)
            } catch {
                Issue.record("crash at step \(crashPoint) (\(fileSystem.log.last ?? "")): \(error)")
                continue
            }
            #expect(await store.unreadableChunks(id).isEmpty, "crash at step \(crashPoint)")
            if acknowledged.isEmpty { continue }
            crashesAfterSomethingWasAcknowledged += 1
            let loaded = try #require(graph, "crash at step \(crashPoint)")
            let lost = acknowledged.filter { !loaded.contains($0) }
            #expect(lost.isEmpty, "crash at step \(crashPoint) (\(fileSystem.log.last ?? "")) lost \(lost.count) acknowledged change(s)")
            #expect(loaded.queuedCount == 0)
        }
        #expect(crashesAfterSomethingWasAcknowledged > 30)
    }

    /// After a crash, the restarted store carries on: it saves, compacts and loads everything.
    @Test func restartedStoreRecoversAfterACrashDuringCompaction() async throws {
        let id = try documentId(2)
        let reference = try TemporaryDirectory()
        defer { reference.remove() }
        let full = CrashingFileSystem()
        _ = await runScenario(reference, full, id: id)
        // Crash just after the compaction's new snapshot is durable, before any old file is deleted.
        // (The first compaction, of the first save's incremental, has no snapshot to replace: take the
        // first that does.)
        let firstDeletion = try #require(full.log.firstIndex { $0.hasPrefix("unlink") && $0.contains("/snapshot/") })
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let acknowledged = await runScenario(directory, CrashingFileSystem(crashAt: firstDeletion), id: id)
        let folder = StorageKey.prefix(id).relativePath
        #expect(directory.list("\(folder)/snapshot").count == 2)
        #expect(!directory.list("\(folder)/incremental").isEmpty)

        let store = DocumentStore(storage: try NodeFSStorage(directory: directory.url))
        var graph = try #require(try await store.loadDocument(id))
        #expect(acknowledged.allSatisfy { graph.contains($0) })
        var builder = DocumentBuilder(actorByte: 2)
        let extra = try builder.addChange()
        try graph.add(extra)
        try await store.save(id, chunks: [extra])
        await store.waitForCompactions()
        try await store.compact(id)
        #expect(directory.list("\(folder)/snapshot") == [NodeFSKeyHash.snapshotName(heads: graph.heads)])
        #expect(directory.list("\(folder)/incremental").isEmpty)
        let reloaded = try #require(try await DocumentStore(storage: try NodeFSStorage(directory: directory.url)).loadDocument(id))
        #expect(reloaded.heads == graph.heads)
        #expect(reloaded.count == graph.count)
    }
}
