import ArgumentParser
import AutomergeCore
import AutomergeRepo
import Foundation

#if canImport(Glibc)
import Glibc
#endif

#if os(Linux) && canImport(Glibc)
/// glibc's `malloc_trim` (declared in `malloc.h`, which the Glibc module does not export).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif

private func trimHeap() {
    #if os(Linux) && canImport(Glibc)
    _ = glibcMallocTrim(0)
    #endif
}

extension BenchCommand {
    /// `bench --compaction FILE`: the file's chunks stored as one incremental (what many small saves
    /// add up to), then the compaction that rewrites them as a snapshot, in this process: its CPU
    /// time, the process's peak RSS while it runs (Linux: VmHWM after a reset) and its RSS once it is
    /// done. Then, outside the figures, the snapshot is checked against a whole-graph `saveDocument()`.
    func runCompaction(_ path: String, split: Double?) async throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        ServerAllocator.use()
        let bytes = try split.map { fraction in try Self.splitDocument([UInt8](data), fraction: fraction) } ?? [UInt8](data)
        // What building the split input took goes back to the system before the figures start.
        trimHeap()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("groundmist-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let storage = try NodeFSRepoStorage(directory: directory, compactionGate: CompactionGate())
        let id = DocumentId.random()
        let pid = getpid()
        let baseline = ProcessStats.residentMegabytes(pid: pid) ?? 0
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        let before = ProcessStats(pid: pid)?.cpuSeconds ?? 0
        let clock = ContinuousClock()
        let start = clock.now
        try await storage.documents.saveReceived(id, bytes: bytes, isWholeDocument: false, heads: [])
        await storage.documents.waitForCompactions()
        let elapsed = (clock.now - start).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
        let after = ProcessStats(pid: pid)
        let settled = ProcessStats.residentMegabytes(pid: pid) ?? 0
        if let failure = await storage.documents.lastCompactionFailure(id) { throw failure }
        let folder = directory.appendingPathComponent(StorageKey.prefix(id).relativePath)
        let snapshots = (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("snapshot").path)) ?? []
        let incrementals = (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("incremental").path)) ?? []
        print(
            "document=\((path as NSString).lastPathComponent)\(split.map { " split=\($0)" } ?? "") bytes=\(bytes.count) snapshots=\(snapshots.count) incrementals=\(incrementals.count)"
        )
        print(
            String(
                format: "compaction: wall=%.2fs CPU=%.2fs peakRSS=%.1fMB (%.1fMB before, %.1fMB after)",
                seconds,
                (after?.cpuSeconds ?? 0) - before,
                after?.peakResidentMegabytes ?? 0,
                baseline,
                settled
            )
        )
        // The written snapshot against the whole graph's save (every change's bytes and an op set).
        guard snapshots.count == 1,
            let written = FileManager.default.contents(atPath: folder.appendingPathComponent("snapshot").appendingPathComponent(snapshots[0]).path)
        else { throw ValidationError("expected one snapshot file") }
        if [UInt8](written) == bytes {
            print("snapshot: the stored document as it was (it held every change)")
        } else {
            var graph = ChangeGraph()
            try graph.load(bytes)
            let expected = try graph.saveDocument()
            print("snapshot equals saveDocument(): \([UInt8](written) == expected ? "yes" : "NO") (\(written.count) bytes)")
        }
    }

    /// The document as a snapshot of its first `fraction` of changes (in the graph's order), followed
    /// by the remaining changes' chunks.
    static func splitDocument(_ bytes: [UInt8], fraction: Double) throws -> [UInt8] {
        guard fraction > 0, fraction < 1 else { throw ValidationError("--compaction-split must be between 0 and 1") }
        var full = ChangeGraph()
        try full.load(bytes)
        let split = max(1, min(full.count - 1, Int(Double(full.count) * fraction)))
        var prefix = ChangeGraph()
        for hash in full.allHashes[..<split] {
            guard let chunk = full.chunk(for: hash) else { throw ValidationError("change \(hash) has no bytes") }
            try prefix.add(chunk)
        }
        var result = try prefix.saveDocument()
        for hash in full.allHashes[split...] { result.append(contentsOf: full.chunk(for: hash)?.bytes ?? []) }
        return result
    }
}
