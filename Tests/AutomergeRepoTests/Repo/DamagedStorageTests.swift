import AutomergeCore
import CoreMetrics
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

@testable import AutomergeRepo

/// Issue 14: damaged storage is said out loud. Unreadable chunk files are logged with their name and
/// counted; a document with nothing readable answers `doc-unavailable` instead of being served empty.
@Suite struct DamagedStorageTests {
    final class Capture: Sendable {
        let log = LogCapture()
        let counters = Mutex<[String: Int64]>([:])

        /// The warnings logged, rendered as lines.
        var warnings: [String] { log.all.filter { $0.level == .warning }.map(\.line) }
    }

    final class CountingFactory: MetricsFactory, Sendable {
        let capture: Capture
        init(capture: Capture) { self.capture = capture }

        final class Count: CounterHandler, Sendable {
            let label: String
            let capture: Capture
            init(label: String, capture: Capture) {
                self.label = label
                self.capture = capture
            }
            func increment(by amount: Int64) { capture.counters.withLock { $0[label, default: 0] += amount } }
            func reset() { capture.counters.withLock { $0[label] = 0 } }
        }
        final class Ignored: RecorderHandler, TimerHandler, FloatingPointCounterHandler, MeterHandler, Sendable {
            func record(_ value: Int64) {}
            func record(_ value: Double) {}
            func recordNanoseconds(_ duration: Int64) {}
            func increment(by: Double) {}
            func reset() {}
            func set(_ value: Int64) {}
            func set(_ value: Double) {}
            func decrement(by: Double) {}
        }

        func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { Count(label: label, capture: capture) }
        func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler { Ignored() }
        func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { Ignored() }
        func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { Ignored() }
        func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler { Ignored() }
        func destroyCounter(_ handler: any CounterHandler) {}
        func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
        func destroyRecorder(_ handler: any RecorderHandler) {}
        func destroyTimer(_ handler: any TimerHandler) {}
        func destroyMeter(_ handler: any MeterHandler) {}
    }

    /// The creator names the series; the repo layer adds nothing of its own.
    static let metricLabels = RepoMetrics.Labels(prefix: "damaged")

    static func makeRepo(_ directory: TemporaryDirectory, _ capture: Capture) throws -> Repo {
        Repo(
            configuration: .init(peerId: "server", sharePolicy: .requestsOnly, syncDebounce: .milliseconds(10)),
            storage: try NodeFSRepoStorage(directory: directory.url, compactionGate: CompactionGate()),
            logger: capture.log.logger(label: "damaged", level: .trace),
            metrics: RepoMetrics(labels: Self.metricLabels, factory: CountingFactory(capture: capture))
        )
    }

    static func requestNothing(_ client: RepoClient, _ document: DocumentId) async throws -> [RepoMessage] {
        var state = SyncState()
        let request = try #require(ChangeGraph().generateSyncMessage(&state))
        await client.send(
            .request(DocumentSyncMessage(senderId: client.peerId, targetId: "server", documentId: document.string, data: request.encode()))
        )
        return await client.drain()
    }

    @Test func documentWithNothingReadableIsUnavailableLoggedAndCounted() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let document = DocumentId.random()
        // A truncated snapshot: the only file of the document.
        var builder = DocumentBuilder()
        for _ in 0..<5 { try builder.addChange(payloadBytes: 100) }
        let saved = try builder.graph.saveDocument()
        let name = NodeFSKeyHash.snapshotName(heads: builder.graph.heads)
        let folder = StorageKey.prefix(document).relativePath
        try directory.write("\(folder)/snapshot/\(name)", Array(saved.prefix(saved.count / 2)))

        let capture = Capture()
        let repo = try Self.makeRepo(directory, capture)
        let client = await RepoClient.scripted(to: repo, peerId: "new-device")
        _ = try await client.join()
        let replies = try await Self.requestNothing(client, document)
        #expect(replies.contains { if case .docUnavailable(let m) = $0 { m.documentId == document.string } else { false } })
        #expect(!replies.contains { if case .error = $0 { true } else { false } })
        let warnings = capture.warnings
        #expect(warnings.contains { $0.contains("\(folder)/snapshot/\(name)") })
        #expect(capture.counters.withLock { $0["damaged_storage_unreadable_chunks_total"] } == 1)
        // The file is left for the operator.
        #expect(directory.exists("\(folder)/snapshot/\(name)"))
    }

    @Test func unreadableChunkBesideReadableOnesIsLoggedAndLeftOut() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let document = DocumentId.random()
        var builder = DocumentBuilder()
        for _ in 0..<5 { try builder.addChange(payloadBytes: 100) }
        let saved = try builder.graph.saveDocument()
        let folder = StorageKey.prefix(document).relativePath
        try directory.write("\(folder)/snapshot/\(NodeFSKeyHash.snapshotName(heads: builder.graph.heads))", saved)
        let torn = String(repeating: "d", count: 64)
        try directory.write("\(folder)/incremental/\(torn)", [0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 1, 50, 1])

        let capture = Capture()
        let repo = try Self.makeRepo(directory, capture)
        let client = await RepoClient.scripted(to: repo, peerId: "reader")
        _ = try await client.join()
        try await client.sync(document, asRequest: true)
        #expect(await client.heads(of: document) == builder.graph.heads)
        #expect(capture.warnings.contains { $0.contains("incremental/\(torn)") })
        #expect(capture.counters.withLock { $0["damaged_storage_unreadable_chunks_total"] } == 1)
    }
}

@Suite struct RepoMetricsLabelTests {
    @Test func aPrefixNamesEverySeries() {
        let labels = RepoMetrics.Labels(prefix: "groundmist")
        #expect(labels.documentsLoaded == "groundmist_documents_loaded")
        #expect(labels.storageWrite == "groundmist_storage_write_seconds")
        #expect(labels.unreadableChunks == "groundmist_storage_unreadable_chunks_total")
        #expect(RepoMetrics(labels: labels).labels == labels)
    }
}
