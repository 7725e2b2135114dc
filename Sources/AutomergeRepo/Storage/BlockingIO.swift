import Dispatch
import Foundation
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Where blocking file-system calls run: a small pool of dedicated threads, so an `fsync` that takes
/// a second stalls one of them, not one of Swift's cooperative threads (two on a 2-core machine),
/// which every actor in the process shares.
enum BlockingIO {
    /// More threads than cores: they spend their time waiting on the disk, not computing. A
    /// compaction's writes run beside a group-commit round instead of queueing behind it.
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        return pool
    }()

    /// The group-commit rounds' own thread: a round (which every waiting peer waits for) never
    /// queues behind other file work — loads, sync states, compaction's reads and writes.
    static let commits: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }()

    /// The threads that write a large group-commit round's files beside the round's own thread
    /// (`concurrently`).
    static let commitWriters: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: GroupCommit.writerThreads - 1)
        pool.start()
        return pool
    }()

    /// Runs `body(0)` on the calling thread and `body(1)`…`body(count - 1)` on `commitWriters`,
    /// and returns their results in that order once all have finished. Called from a round thread,
    /// never from a cooperative one (it blocks until the others are done).
    static func concurrently<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
        guard count > 1 else { return [body(0)] }
        let results = LockedResults<T>(count: count)
        let group = DispatchGroup()
        for index in 1..<count {
            group.enter()
            // Run whatever the pool's state: the round waits for every share.
            commitWriters.submit { _ in
                results.set(index, body(index))
                group.leave()
            }
        }
        results.set(0, body(0))
        group.wait()
        return results.values()
    }

    /// One thread for compaction's CPU work (rebuilding a snapshot), at a lower OS priority: it takes
    /// no cooperative thread from the peers' sync work, and when the CPU is busy the kernel gives it
    /// what the peers leave (a compaction is never on anyone's acknowledgement path).
    static let background: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }()

    /// How much lower than the process the background thread runs (Linux `nice` steps: 5 gives it
    /// about a third of a normal thread's share when both want the CPU, so it still progresses).
    static let backgroundNiceness: Int32 = 5

    /// Runs `body` on the pool and returns its result; a storage error comes back as itself.
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws(StorageError) -> T) async throws(StorageError) -> T {
        try await run(on: pool, body)
    }

    /// Runs a group-commit round on its own thread.
    static func runRound<T: Sendable>(_ body: @escaping @Sendable () throws(StorageError) -> T) async throws(StorageError) -> T {
        try await run(on: commits, body)
    }

    /// Runs CPU-heavy background work on the low-priority thread.
    static func runInBackground<T: Sendable>(_ body: @escaping @Sendable () -> T) async throws(StorageError) -> T {
        try await run(on: background) { () throws(StorageError) -> T in
            lowerThreadPriority()
            return body()
        }
    }

    private static func run<T: Sendable>(
        on pool: NIOThreadPool,
        _ body: @escaping @Sendable () throws(StorageError) -> T
    ) async throws(StorageError) -> T {
        let outcome: Result<T, StorageError>
        do {
            outcome = try await pool.runIfActive { () -> Result<T, StorageError> in
                do throws(StorageError) {
                    return .success(try body())
                } catch {
                    return .failure(error)
                }
            }
        } catch {
            // Only when the pool was shut down, which this process never does.
            throw .io(operation: "schedule blocking I/O", path: "", errno: 0, reason: "\(error)")
        }
        return try outcome.get()
    }

    /// Lowers the calling thread's priority to `backgroundNiceness` (Linux, where `nice` is per
    /// thread and `who` 0 names the calling thread; a no-op elsewhere and when already done).
    private static func lowerThreadPriority() {
        #if canImport(Glibc)
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        if getpriority(which, 0) < backgroundNiceness { _ = setpriority(which, 0, backgroundNiceness) }
        #endif
    }
}

/// Results filled in by several threads (`BlockingIO.concurrently`).
private final class LockedResults<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [T?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: T) { lock.withLock { slots[index] = value } }

    /// Every slot, once each has been set.
    func values() -> [T] { lock.withLock { slots.compactMap { $0 } } }
}
