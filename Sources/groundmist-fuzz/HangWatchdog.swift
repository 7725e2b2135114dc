import Foundation

#if canImport(Glibc)
import Glibc
// With MemberImportVisibility, Glibc struct members (stat, timespec) belong to whichever of
// Foundation's C modules included the header first, which varies between builds: import both.
import CDispatch
import CoreFoundation
#endif

/// Watches the input being fuzzed from a thread of its own. The engine can time an input only
/// once it returns; an input that never returns would otherwise be noticed only by the
/// supervisor's silence limit. The watchdog reports a hang as soon as the input has used more than
/// `threshold` of CPU time (or `blockedThreshold` of wall time without finishing: stuck, not
/// spinning), and gives up on it after `abortAfter` of wall time.
final class HangWatchdog: @unchecked Sendable {
    private struct Current {
        var index: Int
        var wallStart: ContinuousClock.Instant
        var cpuStart: Duration
        var reported = false
        var aborted = false
    }

    let threshold: Duration
    /// Wall time after which an input that is not using the CPU counts as a hang too: a loaded
    /// machine can delay a quick input by a second, rarely by this much.
    var blockedThreshold: Duration { threshold * 5 }
    let abortAfter: Duration
    private let report: @Sendable (_ index: Int, _ detail: String) -> Void
    private let abort: @Sendable (_ index: Int) -> Void
    private let lock = NSLock()
    private var current: Current?
    private var stopped = false
    private var cpuClock = clockid_t()
    private let clock = ContinuousClock()

    /// Create on the thread that runs the inputs: it is the one whose CPU time is watched.
    /// - Parameters:
    ///   - report: called (on the watchdog's thread) once per hanging input.
    ///   - abort: called when an input has run for `abortAfter`; the worker exits there.
    init(
        threshold: Duration,
        abortAfter: Duration,
        report: @escaping @Sendable (_ index: Int, _ detail: String) -> Void,
        abort: @escaping @Sendable (_ index: Int) -> Void
    ) {
        self.threshold = threshold
        self.abortAfter = abortAfter
        self.report = report
        self.abort = abort
        pthread_getcpuclockid(pthread_self(), &cpuClock)
        let thread = Thread { [self] in watch() }
        thread.name = "fuzz-watchdog"
        thread.start()
    }

    func stop() {
        lock.withLock { stopped = true }
    }

    /// The watched thread starts input `index`.
    func begin(_ index: Int) {
        let start = Current(index: index, wallStart: clock.now, cpuStart: cpuTime())
        lock.withLock { current = start }
    }

    /// The watched thread finished its input; true when the watchdog already reported it.
    func end() -> Bool {
        lock.withLock {
            defer { current = nil }
            return current?.reported ?? false
        }
    }

    private func cpuTime() -> Duration {
        var time = timespec()
        clock_gettime(cpuClock, &time)
        return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
    }

    private func watch() {
        while true {
            Thread.sleep(forTimeInterval: 0.05)
            let cpu = cpuTime()
            let now = clock.now
            var toReport: (Int, String)?
            var toAbort: Int?
            let done = lock.withLock { () -> Bool in
                guard !stopped else { return true }
                guard var input = current else { return false }
                let used = cpu - input.cpuStart
                let wall = input.wallStart.duration(to: now)
                if !input.reported, used > threshold || wall > blockedThreshold {
                    input.reported = true
                    toReport = (input.index, "cpu \(Self.seconds(used)) s, wall \(Self.seconds(wall)) s, still running")
                }
                if !input.aborted, wall > abortAfter {
                    input.aborted = true
                    toAbort = input.index
                }
                current = input
                return false
            }
            if done { return }
            if let (index, detail) = toReport { report(index, detail) }
            if let index = toAbort { abort(index) }
        }
    }

    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%.2f", Double(seconds) + Double(attoseconds) / 1e18)
    }
}
