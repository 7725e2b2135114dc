/// An operation a test bounded did not finish in time.
package struct TimedOut: Error, CustomStringConvertible {
    package let what: String
    package init(what: String) { self.what = what }
    package var description: String { "timed out: \(what)" }
}

/// Bounds an operation: it is cancelled and the test fails instead of hanging.
///
/// The bounds are generous on purpose: `swift test` runs every suite at once on a few cooperative
/// threads, so on a 2-core machine a live test can wait a minute behind CPU-bound fixture tests
/// before its next step runs. A bound here catches a hang, not slowness.
package func withTimeout<T: Sendable>(
    _ duration: Duration = .seconds(120),
    _ what: String = "operation",
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: duration)
            throw TimedOut(what: what)
        }
        defer { group.cancelAll() }
        guard let result = try await group.next() else { throw TimedOut(what: what) }
        return result
    }
}

/// Polls until `condition` holds; fails with `TimedOut` instead of waiting forever. For state that
/// another process or a real socket changes; in-process timers take a `TestClock` instead. The
/// default bound is long for the same reason as `withTimeout`'s; a condition that holds returns at once.
package func eventually(
    _ what: String,
    within duration: Duration = .seconds(90),
    _ condition: @escaping @Sendable () async -> Bool
) async throws {
    let deadline = ContinuousClock.now + duration
    while ContinuousClock.now < deadline {
        if await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    throw TimedOut(what: what)
}
