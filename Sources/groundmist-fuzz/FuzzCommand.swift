import Foundation

/// `groundmist-fuzz [--seed N] [--count N] [--seconds N] [--targets a,b] [--fixtures DIR] [--output DIR]`
///
/// Feeds seeded, mutated inputs to every parser reachable from the network or the data
/// directory, each target in child processes, and prints inputs per parser and every crash,
/// hang (> 1 s) or runaway allocation, with the seed and index that rebuild the input.
/// Exits 1 if anything was found. Build in release: `swift run -c release groundmist-fuzz`.
@main
struct FuzzCommand {
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let fixtures = option("--fixtures", in: &arguments) ?? Corpus.defaultDirectory()
        if arguments.first == "worker" {
            worker(Array(arguments.dropFirst()), fixtures: fixtures)
            return
        }
        // `input TARGET SEED INDEX`: writes that input to standard output (to keep as a regression).
        if arguments.first == "input", arguments.count == 4, let seed = UInt64(arguments[2]), let index = Int(arguments[3]),
            let target = FuzzTarget.all(fixtures: Corpus(fixtures: fixtures)).first(where: { $0.name == arguments[1] })
        {
            FileHandle.standardOutput.write(Data(FuzzEngine(target: target, seed: seed).input(index)))
            return
        }
        let seed = option("--seed", in: &arguments).flatMap { UInt64($0) } ?? 1
        let count = option("--count", in: &arguments).flatMap { Int($0) } ?? 1_000_000
        let seconds = option("--seconds", in: &arguments).flatMap { Double($0) } ?? 3600
        let output = option("--output", in: &arguments) ?? "fuzz-findings"
        let names = option("--targets", in: &arguments).map { $0.split(separator: ",").map(String.init) } ?? FuzzTarget.names
        let targets = FuzzTarget.all(fixtures: Corpus(fixtures: fixtures)).filter { names.contains($0.name) }
        let supervisor = FuzzSupervisor(
            executable: CommandLine.arguments[0].hasPrefix("/")
                ? CommandLine.arguments[0] : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0],
            fixtures: fixtures,
            seed: seed,
            outputDirectory: output
        )
        emit("groundmist-fuzz: seed \(seed), up to \(count) inputs per parser, \(Int(seconds)) s per parser")
        var findings: [FuzzEngine.Finding] = []
        for target in targets {
            let report = supervisor.run(target: target, count: count, seconds: seconds)
            findings += report.findings
            let rate = report.seconds > 0 ? Int(Double(report.inputs) / report.seconds) : 0
            emit(
                "\(target.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(String(report.inputs).leftPadded(9)) inputs  "
                    + "\(String(format: "%7.1f", report.seconds)) s  \(String(rate).leftPadded(7))/s  seeds \(target.corpus.count)  findings \(report.findings.count)"
            )
            for finding in report.findings { emit("  \(finding)") }
        }
        emit(findings.isEmpty ? "no crash, hang or runaway allocation" : "\(findings.count) finding(s)")
        exit(findings.isEmpty ? 0 : 1)
    }

    /// `worker TARGET SEED START END SECONDS [--trace]`: runs inputs START..<END in this process.
    static func worker(_ arguments: [String], fixtures: String) {
        guard arguments.count >= 5, let seed = UInt64(arguments[1]), let start = Int(arguments[2]), let end = Int(arguments[3]),
            let seconds = Double(arguments[4]),
            let target = FuzzTarget.all(fixtures: Corpus(fixtures: fixtures)).first(where: { $0.name == arguments[0] })
        else {
            FileHandle.standardError.write(Data("usage: worker TARGET SEED START END SECONDS [--trace]\n".utf8))
            exit(2)
        }
        let trace = arguments.contains("--trace")
        let engine = FuzzEngine(target: target, seed: seed)
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var lastReport = ContinuousClock.now
        // Reports a hanging input while it runs; one that never returns ends the worker with
        // `hangExitStatus`, and the supervisor goes on after it.
        let watchdog = HangWatchdog(
            threshold: engine.hangThreshold,
            abortAfter: FuzzSupervisor.abandonAfter,
            report: { index, detail in emit("hang \(target.name) \(index) \(detail)") },
            abort: { index in
                emit("abandoned \(index)")
                exit(FuzzSupervisor.hangExitStatus)
            }
        )
        defer { watchdog.stop() }
        let result = engine.run(start..<max(start, end), deadline: deadline, watchdog: watchdog) { index in
            if trace {
                emit("at \(index)")
            } else if index % 64 == 0, lastReport.duration(to: .now) > .milliseconds(500) {
                lastReport = .now
                emit("progress \(index)")
            }
        }
        for finding in result.findings { emit("\(finding.kind.rawValue) \(target.name) \(finding.index) \(finding.detail)") }
        emit("done \(result.ran)")
    }

    /// Writes one line unbuffered, so a report read from a file is current.
    static func emit(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func option(_ name: String, in arguments: inout [String]) -> String? {
        guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
        let value = arguments[index + 1]
        arguments.removeSubrange(index...(index + 1))
        return value
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
