import ATProto
import Foundation
import GroundmistSync
import JWTKit
import TestSupport
import Testing

/// `sessions` and `token` through the built executable, on a temporary data directory.
@Suite struct SessionsCommandTests {
    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The built executable with only the environment the test sets: the developer's own
    /// ATPROTO_DID or DATA_DIR must not leak in.
    static func run(_ arguments: [String], environment: [String: String] = [:], in directory: URL) throws -> Output {
        let result = try runCLI(arguments, environment: ["PATH": "/usr/bin:/bin"].merging(environment) { _, new in new }, directory: directory)
        return Output(status: result.status, stdout: String(decoding: result.stdout, as: UTF8.self), stderr: result.stderr)
    }

    static let environment = [
        "ATPROTO_DID": "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
        "GROUNDMIST_SYNC_SECRET_KEY": "a-secret-that-is-long-enough-0123456789",
        "PUBLIC_URL": "https://sync.example.com",
    ]

    @Test func tokenCreateListApproveRevoke() async throws {
        let directory = try temporaryDirectory("sessions-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data").path

        let created = try Self.run(
            ["token", "create", "--group", "xyz.groundmist.library", "--expires", "2h", "--data-dir", data],
            environment: Self.environment,
            in: directory
        )
        #expect(created.status == 0, "\(created.stderr)")
        let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.split(separator: ".").count == 3)

        // The token verifies with the same secret and names an approved session.
        let tokens = await SyncTokens(
            secret: Secret(text: Self.environment["GROUNDMIST_SYNC_SECRET_KEY"]!),
            ownerDID: Self.environment["ATPROTO_DID"]!
        )
        let claims = try await tokens.verify(token)
        #expect(claims.group == "xyz.groundmist.library")
        let lifetime = claims.exp.value.timeIntervalSinceNow
        #expect(lifetime > 7000 && lifetime <= 7200)

        let listed = try Self.run(["sessions", "list", "--json", "--data-dir", data], in: directory)
        #expect(listed.status == 0)
        let array = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(array.count == 1)
        #expect(array.first?["id"] as? String == claims.sid)
        #expect(array.first?["status"] as? String == "approved")
        #expect(array.first?["method"] as? String == "cli")

        let table = try Self.run(["sessions", "list"], environment: ["DATA_DIR": data], in: directory)
        #expect(table.stdout.contains(claims.sid))
        #expect(table.stdout.contains("approved"))

        let revoked = try Self.run(["sessions", "revoke", claims.sid, "--data-dir", data], in: directory)
        #expect(revoked.status == 0)
        let store = try SessionStore(dataDirectory: data)
        #expect(await store.session(claims.sid)?.status == .revoked)
        let reapprove = try Self.run(["sessions", "approve", claims.sid, "--data-dir", data], in: directory)
        #expect(reapprove.status != 0)
        #expect(reapprove.stderr.contains("revoked"))

        // A pending session is approved by the command.
        let pending = try await store.create(group: "xyz.groundmist.library", method: .dpop, status: .pending, lifetime: 3600)
        let approved = try Self.run(["sessions", "approve", pending.id, "--data-dir", data], in: directory)
        #expect(approved.status == 0)
        #expect(try await store.reloadIfChanged())
        #expect(await store.session(pending.id)?.status == .approved)

        let unknown = try Self.run(["sessions", "approve", "ffffffffffffffff", "--data-dir", data], in: directory)
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no session with id ffffffffffffffff"))
    }

    /// Review item 2: labels a client chose cannot fake lines or colours in `sessions list`, even
    /// from a file an older version wrote unsanitised.
    @Test func listEscapesClientLabelsAndShowsAgentAndAddress() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sessions-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let state = directory.appendingPathComponent("data/.groundmist")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        let json = #"""
            {"version":1,"sessions":[{"id":"0123456789abcdef","group":"xyz.groundmist.library","method":"dpop",\#
            "clientId":"evil\u001b[2K\rapproved\nfake","userAgent":"Library/1.0","remoteAddress":"203.0.113.7",\#
            "keyThumbprint":"Kq9Zt0aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789a",\#
            "created":"2030-01-01T00:00:00Z","expires":"2030-01-02T00:00:00Z","status":"pending"}]}
            """#
        try Data(json.utf8).write(to: state.appendingPathComponent("sessions.json"))
        let table = try Self.run(["sessions", "list", "--data-dir", directory.appendingPathComponent("data").path], in: directory)
        #expect(table.status == 0, "\(table.stderr)")
        #expect(!table.stdout.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
        #expect(table.stdout.split(separator: "\n").count == 2)
        #expect(table.stdout.contains("evil?[2K?approved?fake"))
        #expect(table.stdout.contains("203.0.113.7"))
        #expect(table.stdout.contains("Library/1.0"))
        #expect(table.stdout.contains("USER AGENT"))
        // What tells the owner's device from a lookalike: address, key thumbprint prefix, first seen.
        let header = try #require(table.stdout.split(separator: "\n").first)
        #expect(header.contains("FIRST SEEN") && header.contains("KEY") && header.contains("ADDRESS"))
        #expect(table.stdout.contains("Kq9Zt0aB"))
        #expect(!table.stdout.contains("Kq9Zt0aBc"))
        #expect(table.stdout.contains("2030-01-01T00:00:00Z"))
    }

    /// Review item 3: `sudo groundmist-sync sessions …` on the service user's directory is refused.
    @Test(.enabled(if: geteuid() == 0, "needs root to chown the data directory"))
    func refusesRootOnTheServiceUsersDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sessions-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        #expect(chown(data.path, 54321, 54321) == 0)
        for command in [
            ["sessions", "list", "--data-dir", data.path], ["sessions", "approve", "0123456789abcdef", "--data-dir", data.path],
            ["token", "create", "--group", "xyz.groundmist.library", "--data-dir", data.path],
        ] {
            let output = try Self.run(command, environment: Self.environment, in: directory)
            #expect(output.status != 0, "\(command)")
            #expect(output.stderr.contains("sudo -u"), "\(command): \(output.stderr)")
        }
        // Nothing was written as root.
        #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent(".groundmist").path))
    }

    @Test func tokenCreateExplainsMissingConfiguration() throws {
        let directory = try temporaryDirectory("sessions-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let noOwner = try Self.run(["token", "create", "--group", "xyz.groundmist.library"], in: directory)
        #expect(noOwner.status != 0)
        #expect(noOwner.stderr.contains("ATPROTO_DID is not set"))
        let badGroup = try Self.run(["token", "create", "--group", "../etc"], environment: Self.environment, in: directory)
        #expect(badGroup.status != 0)
        #expect(badGroup.stderr.contains("--group must be a namespace prefix"))
        var short = Self.environment
        short["GROUNDMIST_SYNC_SECRET_KEY"] = "short"
        let shortSecret = try Self.run(["token", "create", "--group", "xyz.groundmist.library"], environment: short, in: directory)
        #expect(shortSecret.status != 0)
        #expect(shortSecret.stderr.contains("must be at least 32 bytes"))
        for command in [["sessions", "--help"], ["sessions", "list", "--help"], ["token", "create", "--help"], ["serve", "--help"]] {
            let help = try Self.run(command, in: directory)
            #expect(help.status == 0, "\(command)")
            #expect(help.stdout.contains("USAGE"), "\(command)")
        }
    }
}

/// `serve` refuses a bad configuration with one line per problem and a non-zero exit.
@Suite struct ServeConfigurationTests {
    @Test func serveReportsEveryProblemAndExits() throws {
        let directory = try temporaryDirectory("serve-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try SessionsCommandTests.run(
            ["serve", "--port", "0"],
            environment: [
                "ATPROTO_DID": "did:plc:ewvi7nxzyoun6zhxrhs64oiz", "GROUNDMIST_SYNC_SECRET_KEY": "too-short", "GROUNDMIST_LEGACY_AUTH": "sometimes",
            ],
            in: directory
        )
        #expect(output.status != 0)
        #expect(output.stderr.contains("GROUNDMIST_SYNC_SECRET_KEY must be at least 32 bytes (got 9)"))
        #expect(output.stderr.contains("PUBLIC_URL is required when ATPROTO_DID is set"))
        #expect(output.stderr.contains("GROUNDMIST_LEGACY_AUTH must be approve, trust or off (got \"sometimes\")"))
    }

    @Test func developmentModeStillRefusesNonLoopback() throws {
        let directory = try temporaryDirectory("serve-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try SessionsCommandTests.run(["serve", "--host", "0.0.0.0", "--port", "0"], in: directory)
        #expect(output.status != 0)
        #expect(output.stderr.contains("refusing to listen on 0.0.0.0"))
    }
}
