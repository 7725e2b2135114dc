import Foundation
import TestSupport
import Testing

private let packageRoot = SharedFixtures.packageRoot
private let installer = packageRoot.appendingPathComponent("deploy/installer.sh")
private let bash = ["/bin/bash", "/usr/bin/bash"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// `deploy/installer.sh` in `--dry-run`: the plan it prints, without root and without changing anything.
@Suite(.enabled(if: bash != nil, "needs bash"))
struct InstallerTests {
    struct Run {
        let status: Int32
        let output: String
        let errors: String
    }

    private func run(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(bash))
        process.arguments = [installer.path] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus,
            output: String(decoding: output, as: UTF8.self),
            errors: String(decoding: errors, as: UTF8.self)
        )
    }

    private static let did = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"

    @Test func theScriptParses() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(bash))
        process.arguments = ["-n", installer.path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test func dryRunPrintsThePlanAndChangesNothing() throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("installer-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: config) }
        let result = try run([
            "--dry-run", "--domain", "sync.example.com", "--did", Self.did, "--yes", "--binary", "/tmp/groundmist-sync",
            "--config-dir", config.path, "--data-dir", "/var/lib/gm-test", "--email", "me@example.com",
            "--caddyfile", config.appendingPathComponent("caddy/Caddyfile").path,
        ])
        #expect(result.status == 0, "\(result.errors)")
        let plan = result.output
        // Binary, user, directories.
        #expect(plan.contains("+ install -m 0755 -o root -g root /tmp/groundmist-sync /usr/local/bin/groundmist-sync"))
        #expect(plan.contains("useradd --system") || plan.contains("user groundmist exists"))
        #expect(plan.contains("+ install -d -m 0750 -o groundmist -g groundmist /var/lib/gm-test"))
        // .env: owner, public URL, a new secret that is never shown.
        #expect(plan.contains("| ATPROTO_DID=\(Self.did)"))
        #expect(plan.contains("| PUBLIC_URL=https://sync.example.com"))
        #expect(plan.contains("| HOST=127.0.0.1"))
        #expect(plan.contains("| GROUNDMIST_SYNC_SECRET_KEY=<secret, not shown>"))
        #expect(plan.contains("would generate a new 32-byte GROUNDMIST_SYNC_SECRET_KEY"))
        // systemd unit with restart and hardening, writable data directory only.
        for line in [
            "ExecStart=/usr/local/bin/groundmist-sync serve", "Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict",
            "ReadWritePaths=/var/lib/gm-test", "PrivateTmp=yes", "User=groundmist", "WorkingDirectory=\(config.path)",
            // Fail closed: no .env, no start; incomplete settings, no start.
            "EnvironmentFile=\(config.path)/.env", "Environment=GROUNDMIST_REQUIRE_AUTH=1",
            "ExecStart=/usr/local/bin/groundmist-sync serve --require-auth",
            "Documentation=file:///usr/local/share/doc/groundmist-sync/README.md",
        ] {
            #expect(plan.contains("| \(line)"), "\(line)")
        }
        #expect(plan.contains("+ systemctl enable groundmist-sync"))
        // Caddy: TLS site for the domain, proxy to loopback, ACME email.
        #expect(plan.contains("| sync.example.com {"))
        // The binary is checked before it is installed.
        #expect(plan.contains("+ /tmp/groundmist-sync --version"))
        #expect(plan.contains("| \treverse_proxy 127.0.0.1:3031"))
        #expect(plan.contains("| \temail me@example.com"))
        #expect(plan.contains("+ caddy validate --adapter caddyfile --config \(config.path)/caddy/Caddyfile"))
        // The sync token (query string) and Authorization headers are filtered out of Caddy's logs.
        #expect(plan.contains("| \tlog {"))
        #expect(plan.contains("| \t\tformat filter {"))
        #expect(plan.contains("| \t\t\t\trequest>uri query {"))
        #expect(plan.contains("| \t\t\t\t\tdelete token"))
        #expect(plan.contains("| \t\t\t\trequest>headers>Authorization delete"))
        // /metrics is not served to the internet, and the summary says so.
        #expect(plan.contains("| \t@metrics path /metrics /metrics/*"))
        #expect(plan.contains("| \trespond @metrics 404"))
        #expect(!plan.contains("loopback only"))
        #expect(plan.contains("Caddy answers 404 for /metrics"))
        // --yes publishes (which prompts for the app password itself).
        #expect(plan.contains("+ cd \(config.path) && /usr/local/bin/groundmist-sync publish sync.example.com"))
        #expect(plan.contains("(dry run: nothing was changed)"))
        #expect(!FileManager.default.fileExists(atPath: config.path))
    }

    @Test func anExistingSecretIsKept() throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("installer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: config) }
        let secret = String(repeating: "ab", count: 32)
        try "ATPROTO_DID=\(Self.did)\nGROUNDMIST_SYNC_SECRET_KEY=\(secret)\nLOG_LEVEL=debug\n"
            .write(to: config.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        // No --did: taken from the existing .env.
        let result = try run(["--dry-run", "--domain", "sync.example.com", "--binary", "/tmp/x", "--config-dir", config.path, "--no-publish"])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output.contains("keeping the existing GROUNDMIST_SYNC_SECRET_KEY"))
        #expect(!result.output.contains(secret))
        #expect(result.output.contains("| LOG_LEVEL=debug"))
        #expect(result.output.contains("| ATPROTO_DID=\(Self.did)"))
        #expect(result.output.contains("skipped; later run"))
        let after = try String(contentsOf: config.appendingPathComponent(".env"), encoding: .utf8)
        #expect(after.contains(secret))
    }

    /// Kept lines of an existing .env that look like secrets are masked in the dry-run plan.
    @Test func dryRunMasksKeptSecrets() throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("installer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: config) }
        try
            "ATPROTO_DID=\(Self.did)\nGROUNDMIST_SYNC_SECRET_KEY=\(String(repeating: "cd", count: 32))\nPDS_APP_PASSWORD=hunter2hunter2\nexport MY_API_TOKEN=tok-12345\nS3_ACCESS_KEY = AKIAEXAMPLE\nLOG_LEVEL=debug\n"
            .write(to: config.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let result = try run([
            "--dry-run", "--domain", "sync.example.com", "--binary", "/tmp/x", "--config-dir", config.path, "--no-publish",
            "--caddyfile", config.appendingPathComponent("caddy/Caddyfile").path,
        ])
        #expect(result.status == 0, "\(result.errors)")
        for secret in ["hunter2hunter2", "tok-12345", "AKIAEXAMPLE", String(repeating: "cd", count: 32)] {
            #expect(!result.output.contains(secret), "\(secret)")
        }
        #expect(result.output.contains("| PDS_APP_PASSWORD=<secret, not shown>"))
        #expect(result.output.contains("| export MY_API_TOKEN=<secret, not shown>"))
        #expect(result.output.contains("| LOG_LEVEL=debug"))
    }

    /// A Caddyfile the installer did not write (other sites) is left alone unless --replace-caddyfile.
    @Test func aForeignCaddyfileIsKept() throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("installer-\(UUID().uuidString)")
        let caddy = config.appendingPathComponent("caddy")
        try FileManager.default.createDirectory(at: caddy, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: config) }
        let caddyfile = caddy.appendingPathComponent("Caddyfile")
        try "blog.example.org {\n\troot * /srv/blog\n\tfile_server\n}\n".write(to: caddyfile, atomically: true, encoding: .utf8)
        let arguments = [
            "--dry-run", "--domain", "sync.example.com", "--did", Self.did, "--binary", "/tmp/x", "--config-dir", config.path,
            "--no-publish", "--caddyfile", caddyfile.path,
        ]
        let kept = try run(arguments)
        #expect(kept.status == 0, "\(kept.errors)")
        #expect(!kept.output.contains("+ write \(caddyfile.path) "))
        #expect(!kept.output.contains("before-groundmist"))
        #expect(kept.output.contains("+ write \(caddy.path)/groundmist-sync.caddy"))
        #expect(kept.output.contains("| sync.example.com {"))
        // What to add by hand: the import line and the log filter.
        #expect(kept.output.contains("        import \(caddy.path)/groundmist-sync.caddy"))
        #expect(kept.output.contains("delete token"))
        #expect(!kept.output.contains("+ systemctl reload-or-restart caddy"))

        let replaced = try run(arguments + ["--replace-caddyfile"])
        #expect(replaced.status == 0, "\(replaced.errors)")
        #expect(replaced.output.contains("+ cp -p \(caddyfile.path) \(caddyfile.path).before-groundmist"))
        #expect(replaced.output.contains("+ write \(caddyfile.path) "))
        #expect(!replaced.output.contains("groundmist-sync.caddy"))
        #expect(try String(contentsOf: caddyfile, encoding: .utf8).contains("blog.example.org"))
    }

    @Test func uninstallDryRunKeepsTheData() throws {
        let result = try run(["--uninstall", "--dry-run", "--data-dir", "/var/lib/gm-test"])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output.contains("Kept: the data in /var/lib/gm-test"))
        #expect(!result.output.contains("rm -rf /var/lib/gm-test"))
        let purge = try run(["--uninstall", "--purge", "--dry-run", "--data-dir", "/var/lib/gm-test"])
        #expect(purge.output.contains("+ rm -rf /var/lib/gm-test /etc/groundmist-sync"))
        let alone = try run(["--purge", "--dry-run"])
        #expect(alone.status != 0 && alone.errors.contains("--purge goes with --uninstall"))
    }

    @Test func theSummarySaysHowToApproveBackUpUpdateAndUninstall() throws {
        let result = try run([
            "--dry-run", "--domain", "sync.example.com", "--did", Self.did, "--binary", "/tmp/x", "--no-publish",
            "--config-dir", "/nonexistent-gm-config",
        ])
        #expect(result.status == 0, "\(result.errors)")
        // Runs from a sudo shell: the cd happens as the service user, who may enter the directory.
        #expect(result.output.contains("sudo -u groundmist sh -c 'cd /nonexistent-gm-config && /usr/local/bin/groundmist-sync sessions approve ID'"))
        #expect(result.output.contains("first login from each app waits for your approval"))
        #expect(result.output.contains("backup -o"))
        #expect(result.output.contains("Update: run this installer again"))
        #expect(result.output.contains("--uninstall"))
    }

    @Test func badArgumentsFailWithAMessage() throws {
        let missing = try run(["--dry-run", "--did", Self.did])
        #expect(missing.status != 0)
        #expect(missing.errors.contains("--domain is required"))
        let scheme = try run(["--dry-run", "--domain", "https://sync.example.com", "--did", Self.did])
        #expect(scheme.errors.contains("without a scheme"))
        let did = try run(["--dry-run", "--domain", "sync.example.com", "--did", "alice.bsky.social", "--config-dir", "/nonexistent-gm"])
        #expect(did.errors.contains("is not a did:plc or did:web DID"))
        let unknown = try run(["--frobnicate"])
        #expect(unknown.errors.contains("unknown option: --frobnicate"))
        let help = try run(["--help"])
        #expect(help.status == 0 && help.output.contains("--dry-run"))
    }
}
