import Foundation
import NIOConcurrencyHelpers

/// The one source of "now" for every time check, so tests can pin time (fixtures use a fixed clock).
public protocol AuthClock: Sendable {
    /// Seconds since the Unix epoch.
    func now() -> Double
}

/// Wall-clock time.
public struct SystemClock: AuthClock {
    public init() {}

    public func now() -> Double { Date().timeIntervalSince1970 }
}

/// A clock that only moves when told to; for tests and simulations.
public final class ManualClock: AuthClock {
    private let time: NIOLockedValueBox<Double>

    public init(_ seconds: Double) {
        time = NIOLockedValueBox(seconds)
    }

    public func now() -> Double { time.withLockedValue { $0 } }

    public func set(_ seconds: Double) { time.withLockedValue { $0 = seconds } }

    public func advance(by seconds: Double) { time.withLockedValue { $0 += seconds } }
}
