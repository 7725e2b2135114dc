import AutomergeCore
import Foundation

#if canImport(Glibc)
import CDispatch
import CoreFoundation
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `groundmist-bench inspect`: how long loading a file takes (parse, rebuild every change, verify
/// heads), then building its op set and materialising its JSON view, and the process's peak
/// memory. Build with `-c release` for meaningful figures.
enum Benchmark {
    static func run(file: String, bytes: [UInt8]) throws(AutomergeError) -> AutomergeJSON {
        let clock = ContinuousClock()
        let start = clock.now
        let startCPU = cpuMilliseconds()
        // The index goes before the op set is built: the two are never held at once.
        let (changeCount, heads, rebuild) = try { () throws(AutomergeError) in
            var graph = ChangeGraph(retainingChanges: false)
            let summary = try graph.load(bytes)
            return (graph.count, graph.heads, summary.rebuild)
        }()
        let loaded = clock.now
        let loadCPU = cpuMilliseconds() - startCPU
        let peakAfterGraph = peakResidentMegabytes()
        let opSet = try buildOpSet(bytes)
        let built = clock.now
        let json = opSet.json().serialized()
        let materialised = clock.now
        return .object([
            ("file", .string(file)),
            ("bytes", .int(Int64(bytes.count))),
            ("changes", .int(Int64(changeCount))),
            ("heads", .array(heads.map { .string($0.hex) })),
            ("loadMilliseconds", .int(milliseconds(loaded - start))),
            // The process's CPU time for the load: on a shared machine the wall time above also
            // counts waiting for a core.
            ("loadCPUMilliseconds", .int(loadCPU)),
            ("peakRSSMegabytesAfterLoad", .int(Int64(peakAfterGraph))),
            // How the rebuild read the op columns: passes (batches) and ops decoded over all of them.
            ("rebuildBatches", .int(Int64(rebuild.batches))),
            ("rebuildOpsRead", .int(Int64(rebuild.opsRead))),
            ("rebuildPeakBytes", .int(Int64(rebuild.peakBytes))),
            ("rebuildIndexBytes", .int(Int64(rebuild.indexBytes))),
            ("ops", .int(Int64(opSet.opCount))),
            ("opSetMilliseconds", .int(milliseconds(built - loaded))),
            ("jsonMilliseconds", .int(milliseconds(materialised - built))),
            ("jsonBytes", .int(Int64(json.utf8.count))),
            ("peakRSSMegabytes", .int(Int64(peakResidentMegabytes()))),
        ])
    }

    /// `groundmist-bench inspect --save`: the engine as a user meets it — load the file as a document
    /// (change graph keeping every change, plus the op set), materialise its JSON, save it as one
    /// compressed document chunk and uncompressed, with the process's peak memory. Run it alone
    /// in its process: the peak covers everything since start.
    static func runSave(file: String, bytes: [UInt8]) throws(AutomergeError) -> AutomergeJSON {
        let clock = ContinuousClock()
        let start = clock.now
        var document = try AutomergeDocument(loading: bytes, actor: ActorId([0]))
        let loaded = clock.now
        let json = document.json().serialized()
        let materialised = clock.now
        let saved = try document.save()
        let savedAt = clock.now
        _ = try document.save(compression: .none)
        let uncompressedAt = clock.now
        // Incremental use: one new local change on the loaded document, then save again (the op
        // set is updated in place; nothing is replayed).
        try document.put(.root, key: "groundmist-bench", .int(1))
        document.commit(time: 0)
        let edited = clock.now
        _ = try document.save()
        let resaved = clock.now
        return .object([
            ("file", .string(file)),
            ("bytes", .int(Int64(bytes.count))),
            ("changes", .int(Int64(document.graph.count))),
            ("ops", .int(Int64(document.opSet.opCount))),
            ("documentLoadMilliseconds", .int(milliseconds(loaded - start))),
            ("jsonMilliseconds", .int(milliseconds(materialised - loaded))),
            ("jsonBytes", .int(Int64(json.utf8.count))),
            ("saveMilliseconds", .int(milliseconds(savedAt - materialised))),
            ("savedBytes", .int(Int64(saved.count))),
            ("saveUncompressedMilliseconds", .int(milliseconds(uncompressedAt - savedAt))),
            ("oneChangeMilliseconds", .int(milliseconds(edited - uncompressedAt))),
            ("saveAfterOneChangeMilliseconds", .int(milliseconds(resaved - edited))),
            ("peakRSSMegabytes", .int(Int64(peakResidentMegabytes()))),
        ])
    }

    /// The op set alone: a leading document chunk through the fast path, then the change
    /// chunks after it in causal order (a change waits for those of its deps that are among
    /// these changes; the others are in the document).
    static func buildOpSet(_ bytes: [UInt8]) throws(AutomergeError) -> OpSet {
        var reader = ChunkReader(bytes)
        var opSet = OpSet()
        var first = true
        var pending: [(chunk: ChangeChunk, deps: [ChangeHash])] = []
        while let chunk = try reader.next() {
            switch chunk {
            case .document(let documentBytes) where first:
                opSet = try OpSet(document: try DocumentChunk(documentBytes))
            case .document:
                break
            case .change(let change):
                pending.append((change, try ChangeMetadata(chunk: change).deps))
            }
            first = false
        }
        var waiting = Set(pending.map(\.chunk.hash))
        while !pending.isEmpty {
            let ready = pending.filter { !$0.deps.contains(where: waiting.contains) }
            guard !ready.isEmpty else { throw .invalidDocument("changes with circular or missing deps") }
            for change in ready {
                let decoded = try Change(chunk: change.chunk)
                // Changes the document already holds are skipped (their first op is present).
                if !opSet.containsOp(ExId(counter: decoded.startOp, actor: decoded.actor)) { try opSet.apply(decoded) }
                waiting.remove(change.chunk.hash)
            }
            pending.removeAll { !waiting.contains($0.chunk.hash) }
        }
        return opSet
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let value = Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1000
        return Int64(value.rounded())
    }

    /// The CPU time this process has used so far (all threads), in milliseconds.
    static func cpuMilliseconds() -> Int64 {
        // getrusage rather than clock_gettime: the debug build resolves `timespec` to NIO's C module,
        // which this target does not import (MemberImportVisibility).
        Int64((ProcessStats.ownCPUSeconds() * 1000).rounded(.down))
    }

    static func peakResidentMegabytes() -> Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(Int32(truncatingIfNeeded: RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        #if os(Linux)
        return usage.ru_maxrss / 1024
        #else
        return usage.ru_maxrss / (1024 * 1024)
        #endif
    }
}
