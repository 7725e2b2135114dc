import Foundation

/// Runs each target's inputs in child processes, in batches, so a trap or a hang in a parser
/// ends only the child: the supervisor replays the batch input by input to find the culprit,
/// saves it to `<output>/<kind>-<target>-<seed>-<index>.bin`, and goes on after it.
struct FuzzSupervisor {
    let executable: String
    let fixtures: String
    let seed: UInt64
    let outputDirectory: String
    /// A child silent for this long is killed and its batch replayed.
    let silenceLimit: TimeInterval = 20
    /// A worker gives up on an input that has run this long (wall time), after reporting it as a
    /// hang, and exits with `hangExitStatus`.
    static let abandonAfter: Duration = .seconds(10)
    static let hangExitStatus: Int32 = 3
    let batchSize = 50_000

    struct Report {
        var inputs = 0
        var findings: [FuzzEngine.Finding] = []
        var seconds: Double = 0
    }

    func run(target: FuzzTarget, count: Int, seconds: Double) -> Report {
        var report = Report()
        let started = Date()
        var next = 0
        while next < count && Date().timeIntervalSince(started) < seconds {
            let end = min(count, next + batchSize)
            let remaining = seconds - Date().timeIntervalSince(started)
            let outcome = child(["worker", target.name, "\(seed)", "\(next)", "\(end)", "\(remaining)"])
            report.findings += outcome.findings
            if outcome.exitedCleanly {
                report.inputs += outcome.ran
                next += outcome.ran
                if outcome.ran == 0 { break }
                continue
            }
            // The worker abandoned a hanging input (already reported): save it and go on after it.
            if let abandoned = outcome.abandonedIndex {
                let engine = FuzzEngine(target: target, seed: seed)
                let path = "\(outputDirectory)/hang-\(target.name)-\(seed)-\(abandoned).bin"
                try? FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
                _ = FileManager.default.createFile(atPath: path, contents: Data(engine.input(abandoned)))
                if let last = report.findings.lastIndex(where: { $0.kind == .hang && $0.index == abandoned }) {
                    report.findings[last].detail += " — abandoned after \(Self.abandonAfter), input saved to \(path)"
                }
                report.inputs += abandoned + 1 - next
                next = abandoned + 1
                continue
            }
            // Replay the batch from the last checkpoint, one progress line per input.
            let replay = child(["worker", target.name, "\(seed)", "\(outcome.lastIndex)", "\(end)", "\(silenceLimit * 3)", "--trace"])
            let culprit = replay.exitedCleanly ? outcome.lastIndex : replay.lastIndex
            let kind: FuzzEngine.Finding.Kind = (outcome.timedOut || replay.timedOut) ? .hang : .crash
            var finding = FuzzEngine.Finding(kind: kind, target: target.name, seed: seed, index: culprit, detail: outcome.status)
            let engine = FuzzEngine(target: target, seed: seed)
            let path = "\(outputDirectory)/\(kind.rawValue)-\(target.name)-\(seed)-\(culprit).bin"
            try? FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: path, contents: Data(engine.input(culprit)))
            finding.detail += " — input saved to \(path)"
            report.findings.append(finding)
            report.inputs += culprit + 1 - next
            next = culprit + 1
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    private struct ChildOutcome {
        var ran = 0
        var lastIndex = 0
        var findings: [FuzzEngine.Finding] = []
        var exitedCleanly = false
        var timedOut = false
        var status = ""
        /// The input the worker gave up on (`HangWatchdog`), if it did.
        var abandonedIndex: Int?
    }

    /// Runs one worker, reading its lines as they come and killing it if it falls silent.
    private func child(_ arguments: [String]) -> ChildOutcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments + ["--fixtures", fixtures]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        var outcome = ChildOutcome()
        guard (try? process.run()) != nil else {
            outcome.status = "could not start the worker"
            return outcome
        }
        let lines = LineCollector()
        pipe.fileHandleForReading.readabilityHandler = { handle in lines.append(handle.availableData) }
        var lastCount = 0
        var lastChange = Date()
        while process.isRunning {
            Thread.sleep(forTimeInterval: 0.05)
            let count = lines.byteCount
            if count != lastCount {
                lastCount = count
                lastChange = Date()
            } else if Date().timeIntervalSince(lastChange) > silenceLimit {
                outcome.timedOut = true
                process.terminate()
                kill(process.processIdentifier, SIGKILL)
                break
            }
        }
        process.waitUntilExit()
        pipe.fileHandleForReading.readabilityHandler = nil
        lines.append(pipe.fileHandleForReading.readDataToEndOfFile())
        for line in lines.lines() {
            let fields = line.split(separator: " ")
            guard let head = fields.first else { continue }
            switch head {
            case "at", "progress": if fields.count > 1, let value = Int(fields[1]) { outcome.lastIndex = value }
            case "done": if fields.count > 1, let value = Int(fields[1]) { outcome.ran = value }
            case "abandoned": if fields.count > 1, let value = Int(fields[1]) { outcome.abandonedIndex = value }
            case "hang", "allocation":
                if fields.count > 2, let index = Int(fields[2]), let kind = FuzzEngine.Finding.Kind(rawValue: String(head)) {
                    outcome.findings.append(
                        FuzzEngine.Finding(
                            kind: kind,
                            target: String(fields[1]),
                            seed: seed,
                            index: index,
                            detail: fields.dropFirst(3).joined(separator: " ")
                        )
                    )
                }
            default: break
            }
        }
        outcome.exitedCleanly = !outcome.timedOut && process.terminationReason == .exit && process.terminationStatus == 0
        if process.terminationReason != .exit || process.terminationStatus != Self.hangExitStatus { outcome.abandonedIndex = nil }
        outcome.status =
            outcome.timedOut
            ? "no progress for \(Int(silenceLimit)) s"
            : "\(process.terminationReason == .uncaughtSignal ? "signal" : "exit status") \(process.terminationStatus)"
        return outcome
    }
}

/// Collects a child's output from the pipe's handler thread.
final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func append(_ chunk: Data) {
        lock.lock()
        data.append(chunk)
        lock.unlock()
    }

    var byteCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return data.count
    }

    func lines() -> [Substring] {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self).split(separator: "\n")
    }
}
