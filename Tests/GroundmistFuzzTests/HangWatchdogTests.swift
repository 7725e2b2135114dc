import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import groundmist_fuzz

/// A hang is an input using more than the threshold of CPU time, or stuck for five times it,
/// reported while it still runs; inputs that never return are abandoned by the worker.
@Suite(.serialized) struct HangWatchdogTests {
    /// Input 3 spins for `spin` of CPU time, input 5 sleeps for `sleep`; the rest return at once.
    static func target(spin: Duration, sleep: Duration) -> FuzzTarget {
        FuzzTarget(name: "slow", corpus: [[0]]) { bytes in
            switch bytes.first {
            case 3:
                let end = FuzzEngine.threadCPUTime() + spin
                var spins = 0
                while FuzzEngine.threadCPUTime() < end { spins &+= 1 }
                _ = spins
            case 5:
                Thread.sleep(forTimeInterval: Double(sleep.components.seconds) + Double(sleep.components.attoseconds) / 1e18)
            default:
                break
            }
        }
    }

    static func run(
        threshold: Duration,
        spin: Duration,
        sleep: Duration,
        abortAfter: Duration = .seconds(60)
    ) -> (
        engine: [FuzzEngine.Finding], watchdog: [(Int, String)], aborted: [Int]
    ) {
        let reported = NIOLockedValueBox<[(Int, String)]>([])
        let aborted = NIOLockedValueBox<[Int]>([])
        let inner = target(spin: spin, sleep: sleep)
        var findings: [FuzzEngine.Finding] = []
        let watchdog = HangWatchdog(
            threshold: threshold,
            abortAfter: abortAfter,
            report: { index, detail in reported.withLockedValue { $0.append((index, detail)) } },
            abort: { index in aborted.withLockedValue { $0.append(index) } }
        )
        defer { watchdog.stop() }
        // Input i is the byte i, so the slow ones are known in advance.
        for index in 0..<8 {
            let single = FuzzEngine(
                target: FuzzTarget(name: "slow", corpus: [[0]]) { _ in inner.run([UInt8(index)]) },
                seed: 1,
                hangThreshold: threshold
            )
            findings += single.run(index..<(index + 1), watchdog: watchdog).findings
        }
        return (findings, reported.withLockedValue { $0 }, aborted.withLockedValue { $0 })
    }

    @Test func aSpinningInputIsReportedWhileItRunsAndOnlyOnce() {
        let result = Self.run(threshold: .milliseconds(100), spin: .milliseconds(400), sleep: .zero)
        // Reported once: by the watchdog while it ran (or, on a starved machine, by the engine after).
        #expect(result.watchdog.map(\.0) + result.engine.map(\.index) == [3], "\(result.watchdog) \(result.engine)")
        #expect(result.watchdog.allSatisfy { $0.1.contains("still running") })
        #expect(result.aborted.isEmpty)
    }

    @Test func aStuckInputThatUsesNoCPUIsAHangToo() {
        let result = Self.run(threshold: .milliseconds(100), spin: .zero, sleep: .milliseconds(900))
        #expect(result.watchdog.map(\.0) + result.engine.map(\.index) == [5], "\(result.watchdog) \(result.engine)")
    }

    @Test func theEngineAloneReportsCPUTimeOverTheThreshold() {
        let inner = Self.target(spin: .milliseconds(250), sleep: .zero)
        let engine = FuzzEngine(target: FuzzTarget(name: "slow", corpus: [[0]]) { _ in inner.run([3]) }, seed: 1, hangThreshold: .milliseconds(100))
        let findings = engine.run(0..<1).findings
        #expect(findings.map(\.kind) == [.hang])
        #expect(findings.first?.detail.hasPrefix("cpu ") == true)
    }

    @Test func anInputThatNeverReturnsIsAbandoned() {
        let result = Self.run(threshold: .milliseconds(100), spin: .milliseconds(500), sleep: .zero, abortAfter: .milliseconds(300))
        #expect(result.aborted == [3])
        #expect(result.watchdog.map(\.0) + result.engine.map(\.index) == [3])
    }
}
