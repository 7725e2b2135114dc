import AutomergeCore
import AutomergeRepo
import Foundation
import TestSupport
import Testing

@testable import GroundmistSync

/// `GET /metrics` over a live server: each test has its own registry (the global bootstrap is
/// once per process), so figures are exact.
@Suite struct MetricsTests {
    /// Samples of a Prometheus text page keyed by `name{labels}` as printed.
    static func samples(_ page: String) -> [String: Double] {
        var result: [String: Double] = [:]
        for line in page.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            result[String(line[..<space])] = value
        }
        return result
    }

    @Test func aFreshServerExposesEverySeriesAtZero() async throws {
        let metrics = GroundmistMetrics()
        try await withLiveServer(endpoint: RecordingEndpoint(), metrics: metrics) { port in
            let response = try await httpGet(port: port, path: "/metrics")
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == GroundmistServer.metricsContentType)
            let samples = Self.samples(response.body)
            #expect(samples["groundmist_websocket_connections"] == 0)
            #expect(samples["groundmist_documents_loaded"] == 0)
            #expect(samples[#"groundmist_sync_messages_total{direction="in"}"#] == 0)
            #expect(samples[#"groundmist_sync_messages_total{direction="out"}"#] == 0)
            #expect(samples[#"groundmist_sync_bytes_total{direction="in"}"#] == 0)
            // The reasons the server really emits exist at 0 before the first failure.
            #expect(samples[#"groundmist_auth_failures_total{reason="token_missing"}"#] == 0)
            #expect(samples[#"groundmist_auth_failures_total{reason="session_pending"}"#] == 0)
            #expect(samples[#"groundmist_auth_failures_total{reason="token_bad_signature"}"#] == 0)
            #expect(samples[#"groundmist_auth_failures_total{reason="bad_jwt_signature"}"#] == 0)
            #expect(samples[#"groundmist_auth_failures_total{reason="invalid"}"#] == nil)
            #expect(response.body.contains("# TYPE groundmist_storage_write_seconds histogram"))
        }
    }

    @Test func authFailuresAreCountedByReason() async throws {
        let metrics = GroundmistMetrics()
        metrics.recordAuthFailure(reason: AuthFailureReason(SyncTokenError.expired))
        metrics.recordAuthFailure(reason: AuthFailureReason(SyncTokenError.expired))
        metrics.recordAuthFailure(reason: AuthFailureReason(SyncTokenError.badSignature))
        let samples = Self.samples(String(decoding: metrics.exposition(), as: UTF8.self))
        #expect(samples[#"groundmist_auth_failures_total{reason="token_expired"}"#] == 2)
        #expect(samples[#"groundmist_auth_failures_total{reason="token_bad_signature"}"#] == 1)
        #expect(samples[#"groundmist_auth_failures_total{reason="session_revoked"}"#] == 0)
    }

    /// Every reason the server emits is pre-created, and no pre-created reason is invented.
    @Test func preCreatedReasonsAreTheEmittedOnes() {
        let known = Set(GroundmistMetrics.knownAuthFailureReasons)
        for reason in ["token_missing", "token_malformed", "token_expired", "session_unknown", "session_pending", "wrong_group", "jwt_replayed"] {
            #expect(known.contains(reason), "\(reason)")
        }
        #expect(known.isDisjoint(with: ["missing", "invalid", "expired", "pending", "revoked"]))
    }

    @Test func syncingMovesTheCounters() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let metrics = GroundmistMetrics()
        let storage = try NodeFSRepoStorage(directory: directory)
        let repo = Repo(
            configuration: .init(peerId: "server", syncDebounce: .milliseconds(20)),
            storage: storage,
            logger: quietLogger,
            metrics: metrics.repo
        )
        let document = DocumentId.random()
        let actor = ActorId(Array(repeating: 0x0c, count: 16))
        try await withLiveServer(endpoint: repo, metrics: metrics) { port in
            let client = RepoClient(peerId: "client", storageId: "storage-client")
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    _ = try await RepoWebSocketClient(url: "ws://127.0.0.1:\(port)", endpoint: client, logger: quietLogger).run()
                }
                try await eventually("client joined") { await client.isJoined }
                let change = LiveSyncTests.change(on: await client.graph(of: document), actor: actor, key: "k", value: 1)
                try await client.apply([change], to: document)
                // The server acknowledges heads only once they are durable.
                try await client.waitUntilServerHas([change.hash], in: document)

                // The bridge counts a message once the socket write returned, which can be just
                // after the client saw it: poll briefly.
                let changeSize = Double(change.bytes.count)
                try await eventually("counters moved") {
                    guard let page = try? await httpGet(port: port, path: "/metrics") else { return false }
                    let during = Self.samples(page.body)
                    return during["groundmist_websocket_connections"] == 1
                        && during["groundmist_documents_loaded"] == 1
                        // join + at least one sync in; peer + at least one sync reply out.
                        && (during[#"groundmist_sync_messages_total{direction="in"}"#] ?? 0) >= 2
                        && (during[#"groundmist_sync_messages_total{direction="out"}"#] ?? 0) >= 2
                        && (during[#"groundmist_sync_bytes_total{direction="in"}"#] ?? 0) >= changeSize
                        && (during[#"groundmist_sync_bytes_total{direction="out"}"#] ?? 0) > 0
                        && (during["groundmist_storage_write_seconds_count"] ?? 0) >= 1
                }

                await client.close()
                try await eventually("connection and document released") {
                    guard let page = try? await httpGet(port: port, path: "/metrics") else { return false }
                    let after = Self.samples(page.body)
                    return after["groundmist_websocket_connections"] == 0 && after["groundmist_documents_loaded"] == 0
                }
                group.cancelAll()
            }
        }
    }
}
