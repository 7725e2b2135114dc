import ArgumentParser
import AutomergeCore
import Foundation

/// `groundmist-bench write FILE…` (formerly `automerge-write-bench`): times writing documents from
/// their stored rows, one file per process so that the peak RSS printed belongs to that file.
struct WriteBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write",
        abstract: "Time writing saved documents back from their stored rows, uncompressed and compressed."
    )

    @Argument(help: "Saved Automerge documents (one per run for a meaningful peak RSS).")
    var files: [String]

    static func format(_ value: Double, _ decimals: Int = 3) -> String { String(format: "%.\(decimals)f", value) }

    static func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    /// Peak resident set size of this process in MB (Linux reports `ru_maxrss` in KiB).
    static func peakResidentMB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    func run() throws {
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("\(file): cannot read the file\n".utf8))
                throw ExitCode(1)
            }
            let bytes = [UInt8](data)
            do {
                var start = DispatchTime.now().uptimeNanoseconds
                let stored = try StoredDocument(bytes: bytes)
                let readTime = Self.seconds(since: start)
                // Best of three: the machine is shared, and the minimum is the least disturbed run.
                var plain: [UInt8] = []
                var compressed: [UInt8] = []
                var plainTime = Double.infinity
                var compressedTime = Double.infinity
                for _ in 0..<3 {
                    start = DispatchTime.now().uptimeNanoseconds
                    plain = try stored.write(compression: .none)
                    plainTime = min(plainTime, Self.seconds(since: start))
                    start = DispatchTime.now().uptimeNanoseconds
                    compressed = try stored.write(compression: .reference)
                    compressedTime = min(compressedTime, Self.seconds(since: start))
                }
                // The server's path: a loaded change graph supplies the change rows.
                var graph = ChangeGraph()
                try graph.load(bytes)
                start = DispatchTime.now().uptimeNanoseconds
                let table = try graph.documentChangeTable()
                let tableTime = Self.seconds(since: start)
                start = DispatchTime.now().uptimeNanoseconds
                let saved = try graph.save(ops: stored.ops, table: table)
                let saveTime = Self.seconds(since: start)
                let name = (file as NSString).lastPathComponent
                print("\(name): \(stored.changes.count) changes, \(stored.ops.count) ops, peak RSS \(Self.format(Self.peakResidentMB(), 0)) MB")
                print("  read stored rows                 \(Self.format(readTime)) s")
                print("  write uncompressed (best of 3)   \(Self.format(plainTime)) s, \(plain.count) B")
                print("  write compressed (best of 3)     \(Self.format(compressedTime)) s, \(compressed.count) B")
                print("  change rows from a change graph  \(Self.format(tableTime)) s")
                print("  save from the graph (compressed) \(Self.format(saveTime)) s, \(saved.count) B")
            } catch {
                FileHandle.standardError.write(Data("\(file): \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
