import AutomergeCore
import Foundation

// Times writing documents from their stored rows; run with `-c release`, one file per process
// so that the peak RSS printed belongs to that file:
//   swift run -c release automerge-write-bench ../shared/fixtures/automerge/upstream/essay.amrg

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
        let name = (file as NSString).lastPathComponent
        print(
            String(
                format:
                    "%@: %d changes, %d ops; read rows %.3f s; write uncompressed %.3f s (%d B); write compressed %.3f s (%d B); peak RSS %.0f MB",
                name,
                stored.changes.count,
                stored.ops.count,
                readTime,
                plainTime,
                plain.count,
                compressedTime,
                compressed.count,
                peakResidentMB()
            )
        )
    } catch {
        FileHandle.standardError.write(Data("\(file): \(error)\n".utf8))
        exit(1)
    }
}
