import ArgumentParser
import AutomergeCore
import AutomergeRepo
import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension BenchCommand {
    /// `bench --compaction FILE`: the file's chunks stored as one incremental (what many small saves
    /// add up to), then the compaction that rewrites them as a snapshot, in this process: its CPU
    /// time, the process's peak RSS while it runs (Linux: VmHWM after a reset) and its RSS once it is
    /// done. Then, outside the figures, the snapshot is checked against a whole-graph `saveDocument()`.
    func runCompaction(_ path: String) async throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        let bytes = [UInt8](data)
        ServerAllocator.use()
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
        print("document=\((path as NSString).lastPathComponent) bytes=\(bytes.count) snapshots=\(snapshots.count) incrementals=\(incrementals.count)")
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
}
