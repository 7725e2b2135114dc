package import Metrics

/// The repo's metrics. Built from an explicit factory and names so a server (or a test) can send them
/// to its own registry under its own names; the repo layer names nothing itself.
///
/// Each repo (one per group) updates the same series: gauges move by increments, never by `set`, so
/// several repos add up instead of overwriting each other.
package struct RepoMetrics: Sendable {
    /// The names of the repo's series, chosen by whoever creates the repo.
    package struct Labels: Sendable, Equatable {
        /// Gauge: documents currently held in memory.
        package var documentsLoaded: String
        /// Timer: wall-clock time of each durable write (changes or a sync state).
        package var storageWrite: String
        /// Counter: stored chunk files found unreadable when a document was loaded.
        package var unreadableChunks: String

        package init(documentsLoaded: String, storageWrite: String, unreadableChunks: String) {
            self.documentsLoaded = documentsLoaded
            self.storageWrite = storageWrite
            self.unreadableChunks = unreadableChunks
        }

        /// `<prefix>_documents_loaded`, `<prefix>_storage_write_seconds` and
        /// `<prefix>_storage_unreadable_chunks_total`.
        package init(prefix: String) {
            self.init(
                documentsLoaded: "\(prefix)_documents_loaded",
                storageWrite: "\(prefix)_storage_write_seconds",
                unreadableChunks: "\(prefix)_storage_unreadable_chunks_total"
            )
        }
    }

    package let labels: Labels
    /// Documents currently held in memory (across every repo using this factory).
    let documentsLoaded: Meter
    /// Wall-clock time of each durable write (changes or a sync state) to storage.
    let storageWrite: CoreMetrics.Timer
    /// Stored chunk files found unreadable when a document was loaded (each load counts them again).
    let unreadableChunks: Counter

    package init(labels: Labels, factory: any MetricsFactory = MetricsSystem.factory) {
        self.labels = labels
        documentsLoaded = Meter(label: labels.documentsLoaded, factory: factory)
        storageWrite = CoreMetrics.Timer(label: labels.storageWrite, factory: factory)
        unreadableChunks = Counter(label: labels.unreadableChunks, factory: factory)
    }

    /// Metrics nobody reads: the default for a repo whose creator asks for none.
    package static var disabled: RepoMetrics {
        RepoMetrics(labels: Labels(prefix: "disabled"), factory: NOOPMetricsHandler.instance)
    }

    func documentLoaded() { documentsLoaded.increment(by: 1.0) }
    func documentEvicted() { documentsLoaded.decrement(by: 1.0) }
    func unreadableChunksFound(_ count: Int) { if count > 0 { unreadableChunks.increment(by: Int64(count)) } }

    /// Records one storage write that started at `start` (whether or not it failed).
    func recordWrite(since start: ContinuousClock.Instant) {
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        storageWrite.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
