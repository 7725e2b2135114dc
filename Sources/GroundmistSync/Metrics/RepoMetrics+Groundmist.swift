package import AutomergeRepo
package import Metrics

extension RepoMetrics.Labels {
    /// The server's names for the repo's series: `groundmist_documents_loaded`,
    /// `groundmist_storage_write_seconds`, `groundmist_storage_unreadable_chunks_total` (the README's
    /// metrics table; dashboards depend on them).
    package static let groundmist = RepoMetrics.Labels(prefix: "groundmist")
}

extension RepoMetrics {
    /// The repo's metrics under the server's names.
    package init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.init(labels: .groundmist, factory: factory)
    }
}
