package import AutomergeRepo
import CoreMetrics
import Metrics
package import Prometheus

/// The server's metrics and the Prometheus registry `GET /metrics` renders.
///
/// Every metric is made through `factory`, which writes to `registry`, rather than through the
/// global `MetricsSystem`: the global bootstrap can happen only once per process, so tests each
/// use their own registry. The executable also bootstraps the global system with the same
/// factory (`bootstrapGlobalMetricsSystem()`), so metrics emitted elsewhere through
/// `CoreMetrics.Counter(label:)` end up on the same page.
package struct GroundmistMetrics: Sendable {
    package static let connectionsLabel = "groundmist_websocket_connections"
    package static let messagesLabel = "groundmist_sync_messages_total"
    package static let bytesLabel = "groundmist_sync_bytes_total"
    package static let authFailuresLabel = "groundmist_auth_failures_total"

    /// Why an authentication attempt failed, as the `reason` label of `groundmist_auth_failures_total`.
    /// Created up front so the series exist (at 0) before the first failure; the same list the
    /// server emits from (`AuthFailureReason`).
    package static var knownAuthFailureReasons: [String] { AuthFailureReason.all.map(\.rawValue) }

    package let registry: PrometheusCollectorRegistry
    package let factory: PrometheusMetricsFactory
    /// Handed to each `Repo` so documents loaded and storage writes land in `registry`.
    package let repo: RepoMetrics

    let connections: CoreMetrics.Meter
    let messagesIn: CoreMetrics.Counter
    let messagesOut: CoreMetrics.Counter
    let bytesIn: CoreMetrics.Counter
    let bytesOut: CoreMetrics.Counter

    package init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        // Storage writes are fsync-bound: from sub-millisecond (page cache) to seconds (slow disks).
        factory.durationHistogramBuckets[RepoMetrics.Labels.groundmist.storageWrite] = [
            .microseconds(100), .microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2.5), .seconds(5),
        ]
        self.factory = factory
        repo = RepoMetrics(factory: factory)
        connections = CoreMetrics.Meter(label: Self.connectionsLabel, factory: factory)
        messagesIn = CoreMetrics.Counter(label: Self.messagesLabel, dimensions: [("direction", "in")], factory: factory)
        messagesOut = CoreMetrics.Counter(label: Self.messagesLabel, dimensions: [("direction", "out")], factory: factory)
        bytesIn = CoreMetrics.Counter(label: Self.bytesLabel, dimensions: [("direction", "in")], factory: factory)
        bytesOut = CoreMetrics.Counter(label: Self.bytesLabel, dimensions: [("direction", "out")], factory: factory)
        for reason in Self.knownAuthFailureReasons {
            _ = CoreMetrics.Counter(label: Self.authFailuresLabel, dimensions: [("reason", reason)], factory: factory)
        }
    }

    /// Makes this registry the process-wide metrics backend. Call once, at start-up, before any
    /// metric is created through the global system (the executable does; tests must not).
    package func bootstrapGlobalMetricsSystem() {
        MetricsSystem.bootstrap(factory)
    }

    /// Counts one refused authentication (`reason` is a short, fixed word, never request data).
    package func recordAuthFailure(reason: AuthFailureReason) {
        CoreMetrics.Counter(label: Self.authFailuresLabel, dimensions: [("reason", reason.rawValue)], factory: factory).increment()
    }

    func connectionOpened() { connections.increment(by: 1.0) }
    func connectionClosed() { connections.decrement(by: 1.0) }

    func received(bytes: Int) {
        messagesIn.increment()
        bytesIn.increment(by: bytes)
    }

    func sent(bytes: Int) {
        messagesOut.increment()
        bytesOut.increment(by: bytes)
    }

    /// The Prometheus text exposition format (version 0.0.4) of everything in the registry.
    package func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
