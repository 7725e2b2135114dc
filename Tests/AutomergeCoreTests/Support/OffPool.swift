import Dispatch

/// Runs CPU-heavy test work on one dedicated thread instead of Swift's cooperative pool.
///
/// Swift Testing runs test functions on the cooperative pool, which has one thread per core (two
/// on a small CI machine). A test that computes for seconds there holds one of them, and two such
/// tests stall every live test of the process (network round trips, timeouts) until they finish.
/// Heavy work handed to `offPool` runs one test at a time on a serial queue of its own, so the
/// pool stays free and the heavy tests take at most one core between them. The work stays in the
/// calling task (a task executor preference), so `#expect` and `#require` inside it report to the
/// running test as usual.
func offPool<Result: Sendable>(_ work: () async throws -> Result) async throws -> Result {
    try await withTaskExecutorPreference(HeavyTestExecutor.shared) { try await work() }
}

/// A serial queue as a task executor.
final class HeavyTestExecutor: TaskExecutor {
    static let shared = HeavyTestExecutor()
    private let queue = DispatchQueue(label: "heavy-tests")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
