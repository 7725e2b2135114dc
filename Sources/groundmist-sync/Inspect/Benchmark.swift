import AutomergeCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `inspect --bench`: how long loading a file takes (parse, rebuild every change, verify
/// heads) and the process's peak memory. Build with `-c release` for meaningful figures.
enum Benchmark {
    static func run(file: String, bytes: [UInt8]) throws(AutomergeError) -> JSONValue {
        let clock = ContinuousClock()
        var graph = ChangeGraph(retainingChanges: false)
        let start = clock.now
        try graph.load(bytes)
        let elapsed = clock.now - start
        let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        return .object([
            ("file", .string(file)),
            ("bytes", .int(Int64(bytes.count))),
            ("changes", .int(Int64(graph.count))),
            ("heads", .array(graph.heads.map { .string($0.hex) })),
            ("loadMilliseconds", .int(Int64(milliseconds.rounded()))),
            ("peakRSSMegabytes", .int(Int64(peakResidentMegabytes()))),
        ])
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
