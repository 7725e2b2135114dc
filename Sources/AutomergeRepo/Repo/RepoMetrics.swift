import Metrics

/// The repo's metrics. Built from an explicit factory so a server (or a test) can send them to its own
/// registry; the default is whatever `MetricsSystem` was bootstrapped with (a no-op when nothing was).
///
/// Each repo (one per group) updates the same series: gauges move by increments, never by `set`, so
/// several repos add up instead of overwriting each other.
public struct RepoMetrics: Sendable {
    public static let documentsLoadedLabel = "groundmist_documents_loaded"
    public static let storageWriteLabel = "groundmist_storage_write_seconds"
    public static let unreadableChunksLabel = "groundmist_storage_unreadable_chunks_total"

    /// Documents currently held in memory (across every repo using this factory).
    let documentsLoaded: Meter
    /// Wall-clock time of each durable write (changes or a sync state) to storage.
    let storageWrite: CoreMetrics.Timer
    /// Stored chunk files found unreadable when a document was loaded (each load counts them again).
    let unreadableChunks: Counter

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        documentsLoaded = Meter(label: Self.documentsLoadedLabel, factory: factory)
        storageWrite = CoreMetrics.Timer(label: Self.storageWriteLabel, factory: factory)
        unreadableChunks = Counter(label: Self.unreadableChunksLabel, factory: factory)
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
