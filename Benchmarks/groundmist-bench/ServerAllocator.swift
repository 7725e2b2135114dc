#if os(Linux) && canImport(Glibc)
/// glibc's `mallopt` (declared in `malloc.h`, which the Glibc module does not export).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

/// The allocator setting `groundmist-sync serve` runs with (its `LargeAllocations`: every allocation
/// of 1 MiB or more in its own mapping, returned to the system when freed), for the benchmarks that
/// run server or CLI code in this process, so their peak RSS is the one the server would see.
enum ServerAllocator {
    static func use() {
        #if os(Linux) && canImport(Glibc)
        // M_MMAP_THRESHOLD (-3 in malloc.h), 1 MiB.
        _ = glibcMallopt(-3, 1 << 20)
        #endif
    }
}
