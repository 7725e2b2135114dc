import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The server under attack, as a child process in development mode on loopback with its own
/// data directory; its memory is read from /proc.
final class ServerProcess {
    let process = Process()
    let port: Int
    let dataDirectory: String

    init(executable: String, port: Int, dataDirectory: String) throws {
        self.port = port
        self.dataDirectory = dataDirectory
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "\(port)", "--data-dir", dataDirectory]
        var environment = ProcessInfo.processInfo.environment
        environment["LOG_LEVEL"] = "error"
        for key in ["ATPROTO_DID", "GROUNDMIST_SYNC_SECRET_KEY", "PUBLIC_URL"] { environment[key] = nil }
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: dataDirectory)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if (try? RawWebSocket(port: port)) != nil { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw RawWebSocket.Failure.handshake("server did not start on port \(port)")
    }

    func stop() {
        if process.isRunning {
            process.interrupt()
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
    }

    /// A /proc/PID/status field in bytes (VmRSS now, VmHWM peak).
    func memory(_ field: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            let number = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            return number * 1024
        }
        return 0
    }
}
