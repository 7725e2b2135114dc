import AutomergeRepo
import Foundation
import Logging
import Testing

@testable import GroundmistSync

@Suite struct ConfigurationTests {
    @Test func defaultsWhenNothingIsSet() throws {
        let configuration = try ServerConfiguration.parse([:])
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 3031)
        #expect(configuration.dataDirectory == ".data")
        #expect(configuration.maxMessageSize == 64 * 1024 * 1024)
        #expect(configuration.pingInterval == .seconds(5))
        #expect(configuration.pongTimeout == .seconds(5))
        #expect(configuration.logLevel == .info)
        #expect(configuration.allowUnauthenticatedNonLoopback == false)
        #expect(configuration.webSocketURL == "ws://127.0.0.1:3031")
    }

    @Test func readsEveryVariable() throws {
        let configuration = try ServerConfiguration.parse([
            "HOST": "::1", "PORT": "8080", "DATA_DIR": "/var/lib/groundmist", "LOG_LEVEL": "DEBUG", "OTHER": "x",
        ])
        #expect(configuration.host == "::1")
        #expect(configuration.port == 8080)
        #expect(configuration.dataDirectory == "/var/lib/groundmist")
        #expect(configuration.logLevel == .debug)
        #expect(configuration.webSocketURL == "ws://[::1]:8080")
    }

    @Test(arguments: ["abc", "70000", "-1", "+80", " 80", "", "0x50", "123456"])
    func rejectsBadPorts(_ port: String) {
        #expect(throws: ConfigurationError([.invalidPort(port)])) {
            try ServerConfiguration.parse(["PORT": port])
        }
    }

    @Test func storageFlushIsReadAndChecked() throws {
        #expect(try ServerConfiguration.parse(["GROUNDMIST_STORAGE_FLUSH": "files"]).storageFlush == .files)
        #expect(try ServerConfiguration.parse(["GROUNDMIST_STORAGE_FLUSH": "syncfs"]).storageFlush == .fileSystem)
        #expect(try ServerConfiguration.parse([:]).storageFlush == GroupCommit.FlushMode.automatic())
        #expect(throws: ConfigurationError([.invalidStorageFlush("fast")])) {
            try ServerConfiguration.parse(["GROUNDMIST_STORAGE_FLUSH": "fast"])
        }
    }

    @Test func reportsEveryProblemAtOnce() {
        do {
            _ = try ServerConfiguration.parse(["HOST": "  ", "PORT": "http", "DATA_DIR": "", "LOG_LEVEL": "loud"])
            Issue.record("expected a configuration error")
        } catch {
            #expect(error.problems == [.emptyHost, .invalidPort("http"), .emptyDataDirectory, .invalidLogLevel("loud")])
            let text = error.description
            #expect(text.contains("PORT must be a whole number from 0 to 65535 (got \"http\")"))
            #expect(text.contains("HOST must not be empty"))
            #expect(text.contains("DATA_DIR must not be empty"))
            #expect(text.contains("LOG_LEVEL must be one of trace, debug, info"))
            #expect(text.split(separator: "\n").count == 5)
        }
    }

    @Test func parsesDotEnvSyntax() throws {
        let values = try DotEnv.parse(
            """
            # comment line

            HOST=127.0.0.2
            export PORT = 4000   # trailing comment
            DATA_DIR="/data/with space#not-a-comment"
            QUOTED='single $HOME \\n'
            ESCAPED="line1\\nline2 \\"q\\""
            EMPTY=
            URL=ws://host/#fragment\r\nCRLF=yes
            """
        )
        #expect(values["HOST"] == "127.0.0.2")
        #expect(values["PORT"] == "4000")
        #expect(values["DATA_DIR"] == "/data/with space#not-a-comment")
        #expect(values["QUOTED"] == "single $HOME \\n")
        #expect(values["ESCAPED"] == "line1\nline2 \"q\"")
        #expect(values["EMPTY"] == "")
        #expect(values["URL"] == "ws://host/#fragment")
        #expect(values["CRLF"] == "yes")
    }

    @Test func reportsMalformedDotEnvLines() {
        #expect(
            throws: ConfigurationError([
                .malformedDotEnvLine(path: "x.env", line: 2), .malformedDotEnvLine(path: "x.env", line: 3),
                .malformedDotEnvLine(path: "x.env", line: 4),
            ])
        ) {
            try DotEnv.parse("OK=1\nNOT A PAIR\n1BAD=2\nOPEN=\"unterminated", path: "x.env")
        }
    }

    @Test func environmentOverridesDotEnv() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("groundmist-env-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent(".env")
        try "PORT=4001\nDATA_DIR=from-file\nLOG_LEVEL=warning\n".write(to: file, atomically: true, encoding: .utf8)

        let configuration = try ServerConfiguration.load(environment: ["PORT": "4002"], dotEnvPath: file.path)
        #expect(configuration.port == 4002)
        #expect(configuration.dataDirectory == "from-file")
        #expect(configuration.logLevel == .warning)

        // A missing file is not an error: the defaults apply.
        let fallback = try ServerConfiguration.load(environment: [:], dotEnvPath: directory.appendingPathComponent("none").path)
        #expect(fallback == ServerConfiguration())
    }

    @Test func invalidValuesInDotEnvAreReported() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("groundmist-env-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent(".env")
        try "PORT=99999\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError([.invalidPort("99999")])) {
            try ServerConfiguration.load(environment: [:], dotEnvPath: file.path)
        }
    }

    @Test(arguments: [
        ("127.0.0.1", true), ("127.1.2.3", true), ("localhost", true), ("LOCALHOST", true), ("::1", true),
        ("[::1]", true), ("0:0:0:0:0:0:0:1", true), ("::ffff:127.0.0.1", true),
        ("0.0.0.0", false), ("::", false), ("192.168.1.10", false), ("128.0.0.1", false), ("example.com", false),
        ("localhost.example.com", false), ("127.0.0.1.nip.io", false), ("", false),
    ])
    func recognisesLoopbackHosts(_ host: String, _ loopback: Bool) {
        #expect(LoopbackAddress.isLoopback(host) == loopback)
    }

    @Test func refusesToStartBeyondLoopbackWithoutAuthentication() throws {
        for host in ["0.0.0.0", "192.168.1.10", "::"] {
            #expect(throws: GroundmistServerError.nonLoopbackWithoutAuthentication(host: host)) {
                try GroundmistServer(configuration: ServerConfiguration(host: host), endpoint: UnavailableEndpoint())
            }
        }
        let message = GroundmistServerError.nonLoopbackWithoutAuthentication(host: "0.0.0.0").description
        #expect(message.contains("refusing to listen on 0.0.0.0"))
        #expect(message.contains("loopback"))

        _ = try GroundmistServer(
            configuration: ServerConfiguration(host: "0.0.0.0", allowUnauthenticatedNonLoopback: true),
            endpoint: UnavailableEndpoint()
        )
        _ = try GroundmistServer(configuration: ServerConfiguration(host: "localhost"), endpoint: UnavailableEndpoint())
        #expect(throws: GroundmistServerError.invalidMaxMessageSize(0)) {
            try GroundmistServer(configuration: ServerConfiguration(maxMessageSize: 0), endpoint: UnavailableEndpoint())
        }
    }
}
