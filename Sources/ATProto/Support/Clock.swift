import Foundation
import NIOConcurrencyHelpers

/// The one source of "now" for every time check, so tests can pin time (fixtures use a fixed clock).
package protocol AuthClock: Sendable {
    /// Seconds since the Unix epoch.
    func now() -> Double
}

/// Wall-clock time.
package struct SystemClock: AuthClock {
    package init() {}

    package func now() -> Double { Date().timeIntervalSince1970 }
}

/// A clock that only moves when told to; for tests and simulations.
package final class ManualClock: AuthClock {
    private let time: NIOLockedValueBox<Double>

    package init(_ seconds: Double) {
        time = NIOLockedValueBox(seconds)
    }

    package func now() -> Double { time.withLockedValue { $0 } }

    package func set(_ seconds: Double) { time.withLockedValue { $0 = seconds } }

    package func advance(by seconds: Double) { time.withLockedValue { $0 += seconds } }
}
