import ATProto
import AutomergeRepo
import Foundation
import Testing

@testable import GroundmistSync

@Suite struct AuthConfigurationTests {
    static let valid: [String: String] = [
        "ATPROTO_DID": "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
        "GROUNDMIST_SYNC_SECRET_KEY": String(repeating: "k", count: 32),
        "PUBLIC_URL": "https://Sync.Example.com/",
    ]

    @Test func noOwnerMeansDevelopmentMode() throws {
        #expect(try ServerConfiguration.parse([:]).authentication == nil)
        #expect(try ServerConfiguration.parse(["ATPROTO_DID": "  "]).authentication == nil)
    }

    @Test func readsTheAuthenticationVariables() throws {
        var values = Self.valid
        values["GROUNDMIST_ALLOWED_ORIGINS"] = "https://app.example.com, http://localhost:5173"
        values["GROUNDMIST_LEGACY_AUTH"] = "Trust"
        values["PLC_URL"] = "http://127.0.0.1:2582/"
        values["GROUNDMIST_TOKEN_LIFETIME"] = "12h"
        let authentication = try #require(try ServerConfiguration.parse(values).authentication)
        #expect(authentication.ownerDID.string == "did:plc:ewvi7nxzyoun6zhxrhs64oiz")
        #expect(authentication.secretKey.bytes == Array(String(repeating: "k", count: 32).utf8))
        #expect(authentication.publicURL == "https://sync.example.com")
        #expect(authentication.serviceDID == "did:web:sync.example.com")
        #expect(authentication.allowedOrigins == ["https://app.example.com", "http://localhost:5173"])
        #expect(authentication.allows(origin: "http://localhost:5173"))
        #expect(!authentication.allows(origin: "https://library.groundmist.xyz"))
        #expect(authentication.legacyAuth == .trust)
        #expect(authentication.plcURL == "http://127.0.0.1:2582")
        #expect(authentication.tokenLifetime == 12 * 3600)
    }

    @Test func defaults() throws {
        let authentication = try #require(try ServerConfiguration.parse(Self.valid).authentication)
        #expect(authentication.allowedOrigins == ["https://library.groundmist.xyz", "https://editor.groundmist.xyz"])
        #expect(authentication.legacyAuth == .approve)
        #expect(authentication.plcURL == "https://plc.directory")
        #expect(authentication.tokenLifetime == 2_592_000)
        var withPort = Self.valid
        withPort["PUBLIC_URL"] = "http://localhost:8080"
        #expect(try ServerConfiguration.parse(withPort).authentication?.serviceDID == "did:web:localhost%3A8080")
    }

    @Test func reportsEveryAuthenticationProblemAtOnce() {
        do {
            _ = try ServerConfiguration.parse([
                "ATPROTO_DID": "bob", "GROUNDMIST_SYNC_SECRET_KEY": "short", "GROUNDMIST_LEGACY_AUTH": "maybe",
                "GROUNDMIST_ALLOWED_ORIGINS": "library.groundmist.xyz", "PLC_URL": "plc.directory", "GROUNDMIST_TOKEN_LIFETIME": "forever",
            ])
            Issue.record("expected a configuration error")
        } catch {
            #expect(error.problems.contains(.shortSecretKey(bytes: 5)))
            #expect(error.problems.contains(.missingPublicURL))
            #expect(error.problems.contains(.invalidLegacyAuth("maybe")))
            #expect(error.problems.contains(.invalidAllowedOrigin("library.groundmist.xyz")))
            #expect(error.problems.contains(.invalidPLCURL("plc.directory")))
            #expect(error.problems.contains(.invalidTokenLifetime("forever")))
            #expect(error.problems.contains { if case .invalidOwnerDID("bob", _) = $0 { true } else { false } })
            #expect(error.problems.count == 7)
            #expect(error.description.contains("openssl rand -hex 32"))
        }
    }

    @Test func secretIsRequiredWithAnOwner() {
        var values = Self.valid
        values["GROUNDMIST_SYNC_SECRET_KEY"] = nil
        #expect(throws: ConfigurationError([.missingSecretKey])) { try ServerConfiguration.parse(values) }
        values["GROUNDMIST_SYNC_SECRET_KEY"] = String(repeating: "x", count: 31)
        #expect(throws: ConfigurationError([.shortSecretKey(bytes: 31)])) { try ServerConfiguration.parse(values) }
    }

    @Test(arguments: ["sync.example.com", "https://sync.example.com/path", "ftp://sync.example.com", "https://", "https://a b", "https://x:99999"])
    func rejectsBadPublicURLs(_ url: String) {
        var values = Self.valid
        values["PUBLIC_URL"] = url
        #expect(throws: ConfigurationError([.invalidPublicURL(url)])) { try ServerConfiguration.parse(values) }
    }

    @Test func durations() {
        #expect(AuthenticationConfiguration.parseDuration("30d") == 2_592_000)
        #expect(AuthenticationConfiguration.parseDuration("90m") == 5400)
        #expect(AuthenticationConfiguration.parseDuration("3600") == 3600)
        #expect(AuthenticationConfiguration.parseDuration("3600s") == 3600)
        for bad in ["", "d", "-1d", "0", "1.5h", "1w", "99999999999d"] {
            #expect(AuthenticationConfiguration.parseDuration(bad) == nil, "\(bad)")
        }
    }

    @Test func flagsOverrideEnvironmentAndDotEnv() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dotenv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent(".env").path
        try """
        ATPROTO_DID=did:plc:ewvi7nxzyoun6zhxrhs64oiz
        GROUNDMIST_SYNC_SECRET_KEY="\(String(repeating: "s", count: 40))"
        PUBLIC_URL=https://from-dotenv.example
        GROUNDMIST_LEGACY_AUTH=off
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try ServerConfiguration.load(
            environment: ["PUBLIC_URL": "https://from-env.example"],
            dotEnvPath: path,
            overrides: ["GROUNDMIST_LEGACY_AUTH": "trust"]
        )
        let authentication = try #require(configuration.authentication)
        #expect(authentication.publicURL == "https://from-env.example")
        #expect(authentication.legacyAuth == .trust)
    }
}

@Suite struct SessionStoreTests {
    @Test func persistsAcrossInstancesAndSeesOtherProcessesChanges() async throws {
        try await withTemporaryDirectory { dataDirectory in
            let server = try SessionStore(dataDirectory: dataDirectory)
            let created = try await server.create(group: "xyz.groundmist.library", method: .dpop, status: .pending, lifetime: 3600, clientId: "app")
            #expect(created.id.count == 16)
            // Lives in a dot-directory that cannot collide with NodeFS document folders; a pending
            // login in pending.json, not sessions.json.
            #expect(FileManager.default.fileExists(atPath: dataDirectory + "/.groundmist/pending.json"))
            #expect(!FileManager.default.fileExists(atPath: dataDirectory + "/.groundmist/sessions.json"))

            let cli = try SessionStore(dataDirectory: dataDirectory)
            #expect(await cli.session(created.id) == created)
            _ = try await cli.setStatus(created.id, .approved)
            // The server picks the change up by re-reading the file.
            #expect(await server.session(created.id)?.status == .pending)
            #expect(try await server.reloadIfChanged())
            #expect(await server.session(created.id)?.status == .approved)
            #expect(try await server.reloadIfChanged() == false)

            // Concurrent writers do not lose each other's sessions.
            let other = try await server.create(group: "xyz.groundmist.notebook.essay", method: .cli, status: .approved, lifetime: 3600)
            let fromCLI = try await cli.create(group: "xyz.groundmist.library", method: .cli, status: .approved, lifetime: 3600)
            let reread = try SessionStore(dataDirectory: dataDirectory)
            #expect(Set(await reread.all().map(\.id)) == [created.id, other.id, fromCLI.id])
        }
    }

    @Test func unknownIdsAndCorruptFilesAreTypedErrors() async throws {
        try await withTemporaryDirectory { dataDirectory in
            let store = try SessionStore(dataDirectory: dataDirectory)
            await #expect(throws: SessionStoreError.notFound("nope")) { try await store.setStatus("nope", .approved) }
            try FileManager.default.createDirectory(atPath: dataDirectory + "/.groundmist", withIntermediateDirectories: true)
            try "{not json".write(toFile: dataDirectory + "/.groundmist/sessions.json", atomically: true, encoding: .utf8)
            #expect(throws: SessionStoreError.corrupt(path: dataDirectory + "/.groundmist/sessions.json")) {
                try SessionStore(dataDirectory: dataDirectory)
            }
        }
    }

    @Test func rootRegistryKeepsTheFirstURL() async throws {
        try await withTemporaryDirectory { dataDirectory in
            let registry = try RootDocumentRegistry(dataDirectory: dataDirectory)
            let first = try AutomergeURLFixture.make()
            let second = try AutomergeURLFixture.make()
            #expect(try await registry.register(first, for: "a.b") == first)
            #expect(try await registry.register(second, for: "a.b") == first)
            #expect(try await registry.register(second, for: "a.c") == second)
            let reopened = try RootDocumentRegistry(dataDirectory: dataDirectory)
            #expect(await reopened.root(of: "a.b") == first)
        }
    }
}

enum AutomergeURLFixture {
    static func make() throws -> AutomergeURL { try AutomergeURL(DocumentId.random().url) }
}
