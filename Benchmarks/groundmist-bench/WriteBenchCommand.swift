import AutomergeCore
import Foundation

// Times writing documents from their stored rows; run with `-c release`, one file per process
// so that the peak RSS printed belongs to that file:
//   swift run -c release automerge-write-bench ../shared/fixtures/automerge/upstream/essay.amrg

func format(_ value: Double, _ decimals: Int = 3) -> String { String(format: "%.\(decimals)f", value) }

func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

/// Peak resident set size of this process in MB (Linux reports `ru_maxrss` in KiB).
func peakResidentMB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

let files = CommandLine.arguments.dropFirst()
if files.isEmpty {
    FileHandle.standardError.write(Data("usage: automerge-write-bench FILE...\n".utf8))
    exit(2)
}
for file in files {
    guard let data = FileManager.default.contents(atPath: file) else {
        FileHandle.standardError.write(Data("\(file): cannot read the file\n".utf8))
        exit(1)
    }
    let bytes = [UInt8](data)
    do {
        var start = DispatchTime.now().uptimeNanoseconds
        let stored = try StoredDocument(bytes: bytes)
        let readTime = seconds(since: start)
        // Best of three: the machine is shared, and the minimum is the least disturbed run.
        var plain: [UInt8] = []
        var compressed: [UInt8] = []
        var plainTime = Double.infinity
        var compressedTime = Double.infinity
        for _ in 0..<3 {
            start = DispatchTime.now().uptimeNanoseconds
            plain = try stored.write(compression: .none)
            plainTime = min(plainTime, seconds(since: start))
            start = DispatchTime.now().uptimeNanoseconds
            compressed = try stored.write(compression: .reference)
            compressedTime = min(compressedTime, seconds(since: start))
        }
        // The server's path: a loaded change graph supplies the change rows.
        var graph = ChangeGraph()
        try graph.load(bytes)
        start = DispatchTime.now().uptimeNanoseconds
        let table = try graph.documentChangeTable()
        let tableTime = seconds(since: start)
        start = DispatchTime.now().uptimeNanoseconds
        let saved = try graph.save(ops: stored.ops, table: table)
        let saveTime = seconds(since: start)
        let name = (file as NSString).lastPathComponent
        print("\(name): \(stored.changes.count) changes, \(stored.ops.count) ops, peak RSS \(format(peakResidentMB(), 0)) MB")
        print("  read stored rows                 \(format(readTime)) s")
        print("  write uncompressed (best of 3)   \(format(plainTime)) s, \(plain.count) B")
        print("  write compressed (best of 3)     \(format(compressedTime)) s, \(compressed.count) B")
        print("  change rows from a change graph  \(format(tableTime)) s")
        print("  save from the graph (compressed) \(format(saveTime)) s, \(saved.count) B")
    } catch {
        FileHandle.standardError.write(Data("\(file): \(error)\n".utf8))
        exit(1)
    }
}
