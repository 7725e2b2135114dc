#if os(Linux) && canImport(Glibc)
/// glibc's `mallopt` (declared in `malloc.h`, which the Glibc module does not export).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

/// Keeps every allocation of `threshold` bytes or more in its own mapping, returned to the system
/// when freed. glibc otherwise raises that threshold to the largest block freed so far (up to
/// 32 MiB), after which multi-megabyte WebSocket messages are carved from per-thread heaps that
/// keep their pages: a peer streaming 8 MiB messages left the server tens of megabytes above
/// what it was holding, and peaked higher (issue 14, attack (c)).
enum LargeAllocations {
    static let threshold: Int32 = 1 << 20
    /// `M_MMAP_THRESHOLD` in `malloc.h`.
    private static let mmapThresholdParameter: Int32 = -3

    static func useSeparateMappings() {
        #if os(Linux) && canImport(Glibc)
        _ = glibcMallopt(mmapThresholdParameter, threshold)
        #endif
    }
}
