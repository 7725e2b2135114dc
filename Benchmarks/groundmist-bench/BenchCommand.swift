import ArgumentParser
import AutomergeCore
import AutomergeRepo
import BenchmarkClients
import Foundation
import GroundmistSync
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `groundmist-bench server`: starts a `groundmist-sync serve` child process on loopback (fresh
/// data directory), drives it with Swift client peers, and reports throughput, round-trip latency
/// and the server's peak memory and CPU time. Build with `-c release`.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Load-test a local server: clients × documents × changes, then fetch everything back."
    )

    @Option(help: "Concurrent client peers.") var clients = 4
    @Option(help: "Documents per client.") var documents = 10
    @Option(help: "Changes per document (one per round trip).") var changes = 500
    @Option(help: "Use a server that is already running at this ws:// URL instead of starting one.") var url: String?
    @Option(
        help: ArgumentHelp(
            "Large-document mode: push this saved document, restart the server, fetch it cold and warm, then idle 3 s.",
            valueName: "file"
        )
    )
    var document: String?
    @Option(help: "Many-documents mode: start a server over a data directory of this many small documents, report start-up time and idle memory.")
    var manyDocuments: Int?
    @Option(
        help: ArgumentHelp(
            "Compaction mode: store this file's chunks as an incremental, compact them into a snapshot in this process, report its CPU time and peak RSS.",
            valueName: "file"
        )
    )
    var compaction: String?
    @Option(
        help: ArgumentHelp(
            "Compaction mode: first rewrite the file as a snapshot of this fraction of its changes followed by the other changes' chunks (what a stored document and later incrementals hold).",
            valueName: "fraction"
        )
    )
    var compactionSplit: Double?

    func run() async throws {
        if let document { return try await runDocument(document) }
        if let compaction { return try await runCompaction(compaction, split: compactionSplit) }
        if let manyDocuments { return try await runManyDocuments(manyDocuments) }
        guard clients > 0, documents > 0, changes > 0 else { throw ValidationError("clients, documents and changes must be positive") }
        var logger = Logger(label: "groundmist-sync.bench")
        logger.logLevel = .warning
        var server: Process?
        var serverPort: Int?
        var dataDirectory: URL?
        let target: String
        if let url {
            target = url
        } else {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("groundmist-bench-\(UUID().uuidString)")
            dataDirectory = directory
            let child = try await ChildServer.start(directory: directory)
            server = child.process
            serverPort = child.port
            target = child.url
        }
        defer {
            server?.terminate()
            server?.waitUntilExit()
            if let dataDirectory { try? FileManager.default.removeItem(at: dataDirectory) }
        }
        let report = try await LoadGenerator(
            options: .init(url: target, clients: clients, documents: documents, changes: changes),
            logger: logger
        ).run()
        var line =
            "clients=\(clients) documents=\(documents) changes=\(changes) total=\(report.changes) "
            + String(
                format: "upload=%.2fs throughput=%.0f changes/s p50=%.2fms p99=%.2fms (after first change: p50=%.2fms p99=%.2fms) fetch=%.2fs",
                report.uploadSeconds,
                report.changesPerSecond,
                report.percentile(0.5),
                report.percentile(0.99),
                report.laterPercentile(0.5),
                report.laterPercentile(0.99),
                report.fetchSeconds
            )
        if let server, let stats = ProcessStats(pid: server.processIdentifier) {
            line += String(
                format: " serverPeakRSS=%.1fMB serverCPU=%.2fs cpuPerChange=%.3fms",
                stats.peakResidentMegabytes,
                stats.cpuSeconds,
                stats.cpuSeconds * 1000 / Double(max(report.changes, 1))
            )
        }
        // The clients' own CPU (this process): they share the machine with the server.
        let clientCPU = ProcessStats.ownCPUSeconds()
        line += String(format: " clientCPU=%.2fs clientCpuPerChange=%.3fms", clientCPU, clientCPU * 1000 / Double(max(report.changes, 1)))
        if let serverPort, let metrics = scrapeMetrics(port: serverPort) {
            // Durability cost per acknowledged change: every write the run made, flushes included.
            let fsyncs = metrics["groundmist_storage_fsyncs_total"] ?? 0
            let rounds = metrics["groundmist_storage_commit_rounds_total"] ?? 0
            let writes = metrics["groundmist_storage_commit_writes_total"] ?? 0
            line += String(
                format: " fsyncs=%.0f fsyncsPerChange=%.2f commitRounds=%.0f writesPerRound=%.1f",
                fsyncs,
                fsyncs / Double(max(report.changes, 1)),
                rounds,
                writes / max(rounds, 1)
            )
        }
        print(line)
        if let path = ProcessInfo.processInfo.environment["GROUNDMIST_BENCH_SAMPLES"], !path.isEmpty {
            // start_ms,latency_ms,number: where a tail comes from (its time, first change or not).
            let rows = report.samples.map { String(format: "%.2f,%.2f,%d", $0.start, $0.milliseconds, $0.number) }
            try ("start_ms,latency_ms,number\n" + rows.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
    }
}

extension BenchCommand {
    /// A server child process on a loopback port over `directory`.
    struct ChildServer {
        let process: Process
        let port: Int

        /// The `groundmist-sync` built beside this executable (`swift build -c release` builds both),
        /// or `GROUNDMIST_SYNC_EXECUTABLE`.
        static var serverExecutable: String {
            if let path = ProcessInfo.processInfo.environment["GROUNDMIST_SYNC_EXECUTABLE"], !path.isEmpty { return path }
            return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("groundmist-sync").path
        }

        static func start(directory: URL) async throws -> ChildServer {
            let port = Int.random(in: 20000...60000)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: serverExecutable)
            process.arguments = ["serve", "--port", "\(port)", "--data-dir", directory.path, "--share-policy", "requests"]
            var environment = ProcessInfo.processInfo.environment
            environment["LOG_LEVEL"] = "warning"
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            try await waitForListener(port: port, process: process)
            return ChildServer(process: process, port: port)
        }

        var url: String { "ws://127.0.0.1:\(port)" }
        var stats: ProcessStats? { ProcessStats(pid: process.processIdentifier) }

        /// Starts a new peak-RSS window (Linux: writing 5 to clear_refs resets VmHWM).
        func resetPeak() {
            try? "5".write(toFile: "/proc/\(process.processIdentifier)/clear_refs", atomically: false, encoding: .utf8)
        }

        func stop() {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// One phase's figures: the server's CPU time spent in it and its peak RSS during it.
    struct Phase {
        var name: String
        var seconds: Double
        var cpuSeconds: Double
        var peakMegabytes: Double

        var line: String {
            String(format: "%@: wall=%.2fs serverCPU=%.2fs serverPeakRSS=%.1fMB", name, seconds, cpuSeconds, peakMegabytes)
        }
    }

    static func measure(_ name: String, _ server: ChildServer, _ body: () async throws -> Void) async throws -> Phase {
        server.resetPeak()
        let before = server.stats?.cpuSeconds ?? 0
        let clock = ContinuousClock()
        let start = clock.now
        try await body()
        let seconds = DocumentTransfer.seconds(clock.now - start)
        // Let the server finish what the phase set off (durable writes, replies in flight).
        try await Task.sleep(for: .milliseconds(200))
        let after = server.stats
        return Phase(name: name, seconds: seconds, cpuSeconds: (after?.cpuSeconds ?? 0) - before, peakMegabytes: after?.peakResidentMegabytes ?? 0)
    }

    func runDocument(_ path: String) async throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        let bytes = [UInt8](data)
        var logger = Logger(label: "groundmist-sync.bench")
        logger.logLevel = .warning
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("groundmist-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let id = DocumentId.random()
        var phases: [Phase] = []
        var heads: [ChangeHash] = []

        var server = try await ChildServer.start(directory: directory)
        let startup = server.stats
        do {
            let transfer = DocumentTransfer(url: server.url, logger: logger)
            phases.append(try await Self.measure("push", server) { heads = try await transfer.push(bytes, as: id) })
        } catch {
            server.stop()
            throw error
        }
        server.stop()

        server = try await ChildServer.start(directory: directory)
        defer { server.stop() }
        let restarted = server.stats
        let transfer = DocumentTransfer(url: server.url, logger: logger)
        phases.append(try await Self.measure("cold fetch", server) { try await transfer.fetch(id, heads: heads) })
        phases.append(try await Self.measure("warm fetch", server) { try await transfer.fetch(id, heads: heads) })
        try await Task.sleep(for: .seconds(3))
        let idle = ProcessStats.residentMegabytes(pid: server.process.processIdentifier) ?? 0

        print("document=\((path as NSString).lastPathComponent) bytes=\(bytes.count) heads=\(heads.count)")
        print(
            String(format: "startup: serverRSS=%.1fMB (restart %.1fMB)", startup?.peakResidentMegabytes ?? 0, restarted?.peakResidentMegabytes ?? 0)
        )
        for phase in phases { print(phase.line) }
        print(String(format: "peak RSS over the run: %.1fMB", phases.map(\.peakMegabytes).max() ?? 0))
        print(String(format: "idle 3 s after the last peer left: serverRSS=%.1fMB", idle))
    }
}

extension BenchCommand {
    /// Writes `count` small documents (one snapshot each, as the JS repo stores them), starts a server
    /// over them, and reports how long it took to listen and its memory after 3 s idle.
    func runManyDocuments(_ count: Int) async throws {
        guard count > 0 else { throw ValidationError("--many-documents must be positive") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("groundmist-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var graph = ChangeGraph()
        let actor = ActorId((0..<16).map { UInt8($0) })
        for number in 1...3 {
            try graph.add(
                Change(
                    deps: graph.heads,
                    actor: actor,
                    seq: UInt64(number),
                    startOp: UInt64(number),
                    ops: [Op(object: .root, key: .map("k\(number)"), action: .put, value: .int(Int64(number)))]
                ).encodeChunk()
            )
        }
        let saved = Data(try graph.saveDocument())
        let name = NodeFSKeyHash.snapshotName(heads: graph.heads)
        for _ in 0..<count {
            let key = try StorageKey.chunk(DocumentId.random(), .snapshot, name: name)
            let file = directory.appendingPathComponent(key.relativePath)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try saved.write(to: file)
        }
        let clock = ContinuousClock()
        let start = clock.now
        let server = try await ChildServer.start(directory: directory)
        defer { server.stop() }
        let startup = DocumentTransfer.seconds(clock.now - start)
        try await Task.sleep(for: .seconds(3))
        let idle = ProcessStats.residentMegabytes(pid: server.process.processIdentifier) ?? 0
        print(String(format: "documents=%d startup=%.2fs idleRSS=%.1fMB", count, startup, idle))
    }
}

/// Peak memory and CPU time of a process, from /proc (Linux).
struct ProcessStats {
    var peakResidentMegabytes: Double
    var cpuSeconds: Double

    init?(pid: Int32) {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let hwm = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Double(hwm.split(separator: " ").dropFirst().first ?? ""),
            let afterName = stat.split(separator: ")").last
        else { return nil }
        let fields = afterName.split(separator: " ")
        // Fields after the command name: state is index 0, utime index 11, stime index 12.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        peakResidentMegabytes = kilobytes / 1024
        cpuSeconds = (user + system) / ticks
    }

    /// This process's CPU time (user + system), in seconds.
    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// The current resident set (VmRSS), in MB.
    static func residentMegabytes(pid: Int32) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return kilobytes / 1024
    }
}

/// The child server's `/metrics` page, as metric name (with its labels) → value; nil if unreachable.
func scrapeMetrics(port: Int) -> [String: Double]? {
    guard let fd = connectLoopback(port: port) else { return nil }
    defer { close(fd) }
    let request = Array("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
    guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return nil }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { break }
        response.append(contentsOf: buffer[0..<count])
    }
    var values: [String: Double] = [:]
    for line in String(decoding: response, as: UTF8.self).split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
        let parts = line.split(separator: " ")
        if parts.count == 2, let value = Double(parts[1]) { values[String(parts[0])] = value }
    }
    return values
}
