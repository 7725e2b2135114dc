import Foundation
import GroundmistSync
import TestSupport
import Testing

/// The fail-closed switch the systemd unit and the Docker image use, and `--version`, which the
/// installer runs to check a binary before installing it.
@Suite struct ServeRequireAuthTests {
    /// Runs `serve` and waits at most 20 s: a server that starts instead of refusing is stopped
    /// and reported.
    static func serve(_ arguments: [String], environment: [String: String]) throws -> (status: Int32?, stderr: String) {
        let directory = try temporaryDirectory("require-auth")
        defer { try? FileManager.default.removeItem(at: directory) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("groundmist-sync")
        process.arguments =
            ["serve", "--port", "\(Int.random(in: 20000...60000))", "--data-dir", directory.appendingPathComponent("data").path] + arguments
        process.environment = environment.merging(["PATH": "/usr/bin:/bin"]) { first, _ in first }
        process.currentDirectoryURL = directory
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            return (nil, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        return (process.terminationStatus, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    @Test func refusesToStartWithoutAuthentication() throws {
        for (arguments, environment) in [(["--require-auth"], [String: String]()), ([], ["GROUNDMIST_REQUIRE_AUTH": "1"])] {
            let result = try Self.serve(arguments, environment: environment)
            #expect(result.status != nil && result.status != 0, "the server started in development mode: \(result.stderr)")
            #expect(result.stderr.contains("authentication is required"), "\(result.stderr)")
            #expect(!result.stderr.contains("development mode"))
        }
    }

    @Test func anIncompleteConfigurationIsRefusedToo() throws {
        let result = try Self.serve(["--require-auth"], environment: ["ATPROTO_DID": "did:plc:ewvi7nxzyoun6zhxrhs64oiz"])
        #expect(result.status != nil && result.status != 0)
        #expect(result.stderr.contains("GROUNDMIST_SYNC_SECRET_KEY is required"), "\(result.stderr)")
    }

    @Test func versionPrintsTheRelease() throws {
        let result = try runCLI(["--version"])
        #expect(result.status == 0)
        #expect(String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == GroundmistVersion.current)
    }
}
