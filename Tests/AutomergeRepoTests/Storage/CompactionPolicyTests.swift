import AutomergeCore
import TestSupport
import Testing

@testable import AutomergeRepo

/// `CompactionPolicy`: the reference's rule, and the server's batched one.
@Suite struct CompactionPolicyTests {
    /// `reference` is JS `#shouldCompact` exactly: snapshot < 1 KiB, or incrementals ≥ snapshot.
    @Test func referenceIsTheJSRule() {
        for snapshot in [0, 1, 500, 1023, 1024, 4000, 100_000] {
            for (files, bytes) in [(0, 0), (1, 10), (1, 1023), (3, 1024), (15, 4000), (40, 5000), (2, 200_000)] {
                let js = snapshot < 1024 || bytes >= snapshot
                #expect(
                    CompactionPolicy.reference.isDue(snapshotBytes: snapshot, incrementalFiles: files, incrementalBytes: bytes) == js,
                    "snapshot \(snapshot), \(files) files of \(bytes) bytes"
                )
            }
        }
    }

    @Test func batchedWaitsForEnoughIncrementals() {
        let policy = CompactionPolicy.batched
        // A small document is not compacted after every save…
        #expect(!policy.isDue(snapshotBytes: 0, incrementalFiles: 1, incrementalBytes: 100))
        #expect(!policy.isDue(snapshotBytes: 300, incrementalFiles: 31, incrementalBytes: 3100))
        #expect(!policy.isDue(snapshotBytes: 0, incrementalFiles: 0, incrementalBytes: 0))
        // …but once it has 32 incremental files, or 64 KiB of them.
        #expect(policy.isDue(snapshotBytes: 300, incrementalFiles: 32, incrementalBytes: 3200))
        #expect(policy.isDue(snapshotBytes: 0, incrementalFiles: 1, incrementalBytes: 64 << 10))
        // Never while the incrementals are smaller than the snapshot (the reference's clause).
        #expect(!policy.isDue(snapshotBytes: 10_000, incrementalFiles: 50, incrementalBytes: 9_999))
        // From a 64 KiB snapshot on, exactly the reference's rule.
        for snapshot in [64 << 10, 100_000, 1 << 20] {
            for (files, bytes) in [(1, snapshot - 1), (1, snapshot), (3, snapshot + 1), (100, snapshot / 2)] {
                #expect(
                    policy.isDue(snapshotBytes: snapshot, incrementalFiles: files, incrementalBytes: bytes)
                        == CompactionPolicy.reference.isDue(snapshotBytes: snapshot, incrementalFiles: files, incrementalBytes: bytes)
                )
            }
        }
    }

    /// With the batched rule, a small document collects one incremental per save and is compacted
    /// at the 32nd into one snapshot holding every change; the reference loads the result.
    @Test func storeWithBatchedPolicyCompactsSmallDocumentsInBatches() async throws {
        let storage = InMemoryStorage()
        let store = DocumentStore(storage: storage, gate: CompactionGate(), compactionPolicy: .batched)
        let id = try documentId(7)
        var builder = DocumentBuilder()
        func count(_ kind: StorageChunkKind) async -> Int {
            await storage.keys.filter { $0.documentChunk?.kind == kind }.count
        }
        for save in 1..<CompactionPolicy.batched.minimumFiles {
            try await store.save(id, chunks: [try builder.addChange()])
            await store.waitForCompactions()
            #expect(await count(.incremental) == save)
            #expect(await count(.snapshot) == 0)
        }
        try await store.save(id, chunks: [try builder.addChange()])
        await store.waitForCompactions()
        #expect(await count(.incremental) == 0)
        #expect(await count(.snapshot) == 1)
        // The next save starts a new batch.
        try await store.save(id, chunks: [try builder.addChange()])
        await store.waitForCompactions()
        #expect(await count(.incremental) == 1)
        let loaded = try #require(try await DocumentStore(storage: storage).loadDocument(id))
        #expect(loaded.heads == builder.graph.heads)
        #expect(loaded.count == CompactionPolicy.batched.minimumFiles + 1)
    }
}
