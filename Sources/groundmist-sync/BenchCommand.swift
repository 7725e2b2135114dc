import ArgumentParser
import Foundation
import GroundmistSync
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `groundmist-sync bench`: starts this executable's server as a child process on loopback
/// (fresh data directory), drives it with Swift client peers, and reports throughput, round-trip
/// latency and the server's peak memory and CPU time. Build with `-c release`.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load-test a local server: clients × documents × changes, then fetch everything back."
    )

    @Option(help: "Concurrent client peers.") var clients = 4
    @Option(help: "Documents per client.") var documents = 10
    @Option(help: "Changes per document (one per round trip).") var changes = 500
    @Option(help: "Use a server that is already running at this ws:// URL instead of starting one.") var url: String?

    func run() async throws {
        guard clients > 0, documents > 0, changes > 0 else { throw ValidationError("clients, documents and changes must be positive") }
        var logger = Logger(label: "groundmist-sync.bench")
        logger.logLevel = .warning
        var server: Process?
        var dataDirectory: URL?
        let target: String
        if let url {
            target = url
        } else {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("groundmist-bench-\(UUID().uuidString)")
            dataDirectory = directory
            let port = Int.random(in: 20000...60000)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            process.arguments = ["serve", "--port", "\(port)", "--data-dir", directory.path, "--share-policy", "requests"]
            var environment = ProcessInfo.processInfo.environment
            environment["LOG_LEVEL"] = "warning"
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            server = process
            target = "ws://127.0.0.1:\(port)"
            try await waitForListener(port: port, process: process)
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
                format: "upload=%.2fs throughput=%.0f changes/s p50=%.2fms p99=%.2fms fetch=%.2fs",
                report.uploadSeconds,
                report.changesPerSecond,
                report.percentile(0.5),
                report.percentile(0.99),
                report.fetchSeconds
            )
        if let server, let stats = ProcessStats(pid: server.processIdentifier) {
            line += String(format: " serverPeakRSS=%.1fMB serverCPU=%.2fs", stats.peakResidentMegabytes, stats.cpuSeconds)
        }
        print(line)
    }
}

/// Waits until something accepts TCP connections on the loopback port (the child server is up).
func waitForListener(port: Int, process: Process) async throws {
    for _ in 0..<500 {
        guard process.isRunning else { throw ValidationError("the server did not start (port \(port) busy?)") }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        close(fd)
        if connected == 0 { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw ValidationError("the server did not start listening on port \(port)")
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
}
