import Metrics

/// Counts refused logins and WebSocket upgrades by a short reason (`groundmist_auth_failures_total`).
struct AuthFailureCounter: Sendable {
    /// Where failures are counted; nil uses the bootstrapped `MetricsSystem`.
    let metrics: (any MetricsFactory)?

    func record(_ reason: AuthFailureReason) {
        let dimensions = [("reason", reason.rawValue)]
        if let metrics {
            Counter(label: GroundmistMetrics.authFailuresLabel, dimensions: dimensions, factory: metrics).increment()
        } else {
            Counter(label: GroundmistMetrics.authFailuresLabel, dimensions: dimensions).increment()
        }
    }
}
