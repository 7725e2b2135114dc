import Foundation

#if canImport(Glibc)
import Glibc
// With MemberImportVisibility, Glibc struct members (stat, timespec) belong to whichever of
// Foundation's C modules included the header first, which varies between builds: import both.
import CDispatch
import CoreFoundation
#endif

/// Runs inputs through one target in this process, timing each and watching peak memory.
/// A trap kills the process: the parent (`FuzzSupervisor`) runs this in a child and replays.
struct FuzzEngine {
    /// An input that uses more CPU time than this is reported as a hang (release builds), as is
    /// one that has not finished after five times this in wall time (`HangWatchdog`).
    static let hangThreshold: Duration = .seconds(1)
    /// Growth of the peak resident size caused by one input that counts as unbounded allocation.
    static let allocationThreshold = 512 << 20

    struct Finding: Sendable, Equatable, CustomStringConvertible {
        enum Kind: String, Sendable { case crash, hang, allocation }
        let kind: Kind
        let target: String
        let seed: UInt64
        let index: Int
        var detail: String = ""

        var description: String { "\(kind.rawValue) in \(target) (seed \(seed), input \(index))\(detail.isEmpty ? "" : ": \(detail)")" }
    }

    let target: FuzzTarget
    let seed: UInt64
    /// Debug builds run parsers 10–50× slower, so the CI slice allows more.
    var hangThreshold: Duration = FuzzEngine.hangThreshold

    /// The input number `index` of this run: deterministic, so a parent can rebuild it.
    func input(_ index: Int) -> [UInt8] {
        var rng = FuzzRandom(seed: seed, target: target.name, index: index)
        return Mutator.input(from: target.corpus, &rng)
    }

    /// Runs inputs `range`; `progress` is called before each one (replay uses it to name the
    /// input that trapped). Returns the hangs and allocation jumps seen, except those `watchdog`
    /// (watching this thread) already reported while the input ran.
    func run(
        _ range: Range<Int>,
        deadline: ContinuousClock.Instant? = nil,
        watchdog: HangWatchdog? = nil,
        progress: (Int) -> Void = { _ in }
    ) -> (ran: Int, findings: [Finding]) {
        var findings: [Finding] = []
        var peak = Self.peakResidentBytes()
        var ran = 0
        let clock = ContinuousClock()
        for index in range {
            if let deadline, index % 64 == 0, clock.now >= deadline { break }
            progress(index)
            let bytes = input(index)
            let start = clock.now
            let startCPU = Self.threadCPUTime()
            watchdog?.begin(index)
            target.run(bytes)
            let reported = watchdog?.end() ?? false
            let elapsed = start.duration(to: clock.now)
            let cpu = Self.threadCPUTime() - startCPU
            ran += 1
            // Mostly CPU time: on a loaded machine a quick input can wait a second for a core,
            // rarely five.
            if !reported, cpu > hangThreshold || elapsed > hangThreshold * 5 {
                let detail = "cpu \(HangWatchdog.seconds(cpu)) s, wall \(HangWatchdog.seconds(elapsed)) s"
                findings.append(Finding(kind: .hang, target: target.name, seed: seed, index: index, detail: detail))
            }
            if index % 16 == 0 || elapsed > .milliseconds(50) {
                let now = Self.peakResidentBytes()
                if now - peak > Self.allocationThreshold {
                    findings.append(
                        Finding(kind: .allocation, target: target.name, seed: seed, index: index, detail: "peak RSS +\((now - peak) >> 20) MiB")
                    )
                }
                peak = now
            }
        }
        return (ran, findings)
    }

    /// CPU time used by the calling thread.
    static func threadCPUTime() -> Duration {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
    }

    /// The process's peak resident set size in bytes (getrusage).
    static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024
    }
}
