import Foundation

/// Runs CPU-heavy test work on threads of its own instead of Swift's cooperative pool.
///
/// Swift Testing runs test functions on the cooperative pool, which has one thread per core (two
/// on a small CI machine). A test that computes for seconds there holds one of them, and two such
/// tests stall every live test of the process (network round trips, timeouts) until they finish.
/// The work stays in the calling task (a task executor preference), so `#expect` and
/// `#require` inside it report to the running test as usual.
func offPool<Result: Sendable>(_ work: () async throws -> Result) async throws -> Result {
    try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) { try await work() }
}

/// Each job on a new thread: test jobs are few and long.
final class ThreadPerJobExecutor: TaskExecutor {
    static let shared = ThreadPerJobExecutor()

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        let thread = Thread { job.runSynchronously(on: executor) }
        thread.stackSize = 16 << 20
        thread.start()
    }
}
