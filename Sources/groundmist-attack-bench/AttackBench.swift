import AutomergeCore
import AutomergeRepo
import Foundation

/// `groundmist-attack-bench [--server PATH] [--attacks a,b,c,d,e] [--label NAME] [--c-frames N] [--c-frame-mib N]`
///
/// Runs each memory attack of issue 14 against a fresh `groundmist-sync serve` child (development
/// mode, loopback, its own data directory) while a legitimate client measures round trips, and
/// prints the server's peak resident memory and the legitimate round trips. Targets: ≤ 100 MB
/// peak, round trip < 100 ms. `--server` may point at another build (e.g. main's) to compare.
@main
struct AttackBench {
    static func main() async throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let executableDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let server = option("--server", in: &arguments) ?? executableDirectory + "/groundmist-sync"
        let attacks = option("--attacks", in: &arguments).map { $0.split(separator: ",").map(String.init) } ?? ["a", "b", "c", "d", "e"]
        let label = option("--label", in: &arguments) ?? server
        // Attack (c)'s frames after the upload (0 measures the upload alone).
        let cFrames = option("--c-frames", in: &arguments).flatMap { Int($0) } ?? 150
        let cFrameSize = (option("--c-frame-mib", in: &arguments).flatMap { Int($0) } ?? 8) << 20
        print("attack benchmark against \(label)")
        print("attack  peak RSS  baseline  after   legit RTT median / max (n)   what happened")
        var port = 41_000 + Int(ProcessInfo.processInfo.processIdentifier % 2000)
        for attack in attacks {
            port += 1
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("attack-\(attack)-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            var bigDocumentId: DocumentId?
            var upload: AutomergeDocument?
            if attack == "a" {
                let document = try Attacks.bigDocument(megabytes: 6)
                let id = DocumentId.random()
                let storage = try NodeFSRepoStorage(directory: directory)
                try await storage.saveChanges(document.changes, of: id)
                bigDocumentId = id
            }
            if attack == "c" { upload = try Attacks.bigDocument(megabytes: 6) }
            let process = try ServerProcess(executable: server, port: port, dataDirectory: directory.path)
            let baseline = process.memory("VmRSS")
            let legit = try LegitimateClient(port: port)
            legit.start()
            try await Task.sleep(for: .milliseconds(500))
            let note: String
            do {
                switch attack {
                case "a": note = try Attacks.unreadResends(port: port, document: bigDocumentId ?? DocumentId.random(), count: 150)
                case "b": note = try Attacks.inflationBomb(port: port, chunks: 5, inflatedSize: 100 << 20)
                case "c":
                    note = try Attacks.bigFramesBehindSlowChange(
                        port: port,
                        upload: upload ?? AutomergeDocument(actor: ActorId(Array(repeating: 1, count: 16))),
                        frames: cFrames,
                        frameSize: cFrameSize
                    )
                case "d": note = try Attacks.tinyFrames(port: port, count: 3_000_000)
                case "e": note = try Attacks.ephemeralFlood(port: port, rounds: 3, perRound: 300_000)
                default: note = "unknown attack"
                }
            } catch {
                note = "attack stopped: \(error)"
            }
            try await Task.sleep(for: .seconds(1))
            let peak = process.memory("VmHWM")
            let after = process.memory("VmRSS")
            let rtt = legit.stop()
            process.stop()
            let rttText =
                rtt.count == 0 ? "no answer" : String(format: "%6.1f / %7.1f ms (%d)%@", rtt.median, rtt.max, rtt.count, rtt.failed ? " dropped" : "")
            print(
                "  \(attack)     \(mb(peak).leftPadded(6)) MB \(mb(baseline).leftPadded(5)) MB \(mb(after).leftPadded(5)) MB   \(rttText.padding(toLength: 30, withPad: " ", startingAt: 0)) \(note)"
            )
        }
    }

    static func mb(_ bytes: Int) -> String { String(bytes / 1_000_000) }

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
