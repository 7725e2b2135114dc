import NIOPosix

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

    /// Runs `body` on the pool and returns its result; a storage error comes back as itself.
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws(StorageError) -> T) async throws(StorageError) -> T {
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
}
