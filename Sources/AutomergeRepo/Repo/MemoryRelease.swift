#if os(Linux) && canImport(Glibc)
/// glibc's `malloc_trim` (declared in `malloc.h`, which the Glibc module does not export).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif

/// Gives freed heap memory back to the system after a large document is let go. glibc keeps freed
/// memory in its arenas, so without this an idle server stays at its peak resident size.
enum MemoryRelease {
    /// Documents at least this large (by their index's own accounting) trim the heap when released.
    static let threshold = 256 << 10

    static func trim() {
        #if os(Linux) && canImport(Glibc)
        _ = glibcMallocTrim(0)
        #endif
    }
}
