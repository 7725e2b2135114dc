import AutomergeRepo
import Foundation
import MetricsTestKit
import TestSupport
import Testing

/// The repo layer names no application: group commit's series carry the prefix its user gives
/// (the server passes `groundmist`, so dashboards keep `groundmist_storage_fsyncs_total`).
@Suite struct StorageMetricsNameTests {
    @Test func groupCommitSeriesTakeTheGivenPrefix() async throws {
        try await withTemporaryDirectory { path in
            let metrics = TestMetrics()
            let unnamed = GroupCommit(mode: .files, metricsFactory: metrics)
            let named = GroupCommit(mode: .files, metricsFactory: metrics)
            await named.setMetricsPrefix("groundmist")
            let key = try StorageKey(["doc", "incremental", "a"])
            try await NodeFSStorage(directory: URL(fileURLWithPath: path).appendingPathComponent("one"), commits: unnamed).save(key, [1, 2, 3])
            try await NodeFSStorage(directory: URL(fileURLWithPath: path).appendingPathComponent("two"), commits: named).save(key, [4, 5, 6])
            for prefix in ["automerge_repo", "groundmist"] {
                #expect(try metrics.expectCounter("\(prefix)_storage_commit_rounds_total").totalValue == 1, "\(prefix)")
                #expect(try metrics.expectCounter("\(prefix)_storage_commit_files_total").totalValue == 1, "\(prefix)")
                #expect(try metrics.expectCounter("\(prefix)_storage_fsyncs_total").totalValue >= 1, "\(prefix)")
            }
        }
    }
}
