import ATProto
import AutomergeCore
import AutomergeRepo
import Foundation
import Logging
import TestSupport
import Testing

@testable import GroundmistSync

/// Every limit in the README's limit tables that has a variable is read from it, and a bad value
/// is a configuration problem naming the variable.
@Suite struct LimitSettingsTests {
    static let authenticated = AuthConfigurationTests.valid

    @Test func loginLimitsAreReadFromTheEnvironment() throws {
        var values = Self.authenticated
        values["GROUNDMIST_MAX_PENDING_LOGINS"] = "7"
        values["GROUNDMIST_MAX_PENDING_LOGINS_PER_ADDRESS"] = "2"
        values["GROUNDMIST_PENDING_LOGIN_RATE"] = "3/5m"
        values["GROUNDMIST_PENDING_LOGIN_RATE_TOTAL"] = " 9/30 "
        values["GROUNDMIST_DID_FAILURE_CACHE"] = "2m"
        values["GROUNDMIST_DID_CACHE_SIZE"] = "50"
        let limits = try #require(try ServerConfiguration.parse(values).authentication).loginLimits
        #expect(
            limits
                == LoginLimits(
                    maximumPending: 7,
                    maximumPendingPerAddress: 2,
                    newPendingPerAddress: .init(burst: 3, interval: 300),
                    newPendingTotal: .init(burst: 9, interval: 30),
                    didFailureLifetime: 120,
                    didCacheEntries: 50
                )
        )
        #expect(try #require(try ServerConfiguration.parse(Self.authenticated).authentication).loginLimits == .default)
    }

    @Test func badLoginLimitsAreReportedByName() {
        var values = Self.authenticated
        values["GROUNDMIST_MAX_PENDING_LOGINS"] = "0"
        values["GROUNDMIST_PENDING_LOGIN_RATE"] = "5"
        values["GROUNDMIST_PENDING_LOGIN_RATE_TOTAL"] = "0/10s"
        values["GROUNDMIST_DID_FAILURE_CACHE"] = "soon"
        values["GROUNDMIST_DID_CACHE_SIZE"] = "-3"
        do {
            _ = try ServerConfiguration.parse(values)
            Issue.record("bad limits were accepted")
        } catch {
            let expected: [ConfigurationProblem] = [
                .invalidLimit(name: "GROUNDMIST_MAX_PENDING_LOGINS", value: "0"),
                .invalidRate(variable: "GROUNDMIST_PENDING_LOGIN_RATE", value: "5"),
                .invalidRate(variable: "GROUNDMIST_PENDING_LOGIN_RATE_TOTAL", value: "0/10s"),
                .invalidTimeout(variable: "GROUNDMIST_DID_FAILURE_CACHE", value: "soon"),
                .invalidLimit(name: "GROUNDMIST_DID_CACHE_SIZE", value: "-3"),
            ]
            #expect(error.problems.count == expected.count)
            for problem in expected { #expect(error.problems.contains(problem), "missing: \(problem)") }
            #expect(error.description.contains("GROUNDMIST_PENDING_LOGIN_RATE must be a count and a duration like 5/2m"))
        }
    }

    @Test func rateSyntax() {
        #expect(LoginLimits.Rate.parse("5/2m") == .init(burst: 5, interval: 120))
        #expect(LoginLimits.Rate.parse("1/1d") == .init(burst: 1, interval: 86400))
        for bad in ["", "/", "5/", "/2m", "5/0", "-1/2m", "5/2m/1", "five/2m", "5/2x", "1234567890/1s"] {
            #expect(LoginLimits.Rate.parse(bad) == nil, "accepted \(bad)")
        }
    }

    @Test func repoLimitsAndMessageSizeAreReadFromTheEnvironment() throws {
        let configuration = try ServerConfiguration.parse([
            "GROUNDMIST_EPHEMERAL_SESSIONS": "500",
            "GROUNDMIST_EPHEMERAL_LIFETIME": "1m",
            "GROUNDMIST_MAX_MESSAGE_BYTES": "1048576",
            "GROUNDMIST_MAX_INFLATED_CHANGE_BYTES": "1000000",
            "GROUNDMIST_MAX_INFLATED_MESSAGE_BYTES": "3000000",
        ])
        #expect(
            configuration.repoLimits
                == RepoLimits(
                    ephemeralSessions: 500,
                    ephemeralLifetime: .seconds(60),
                    inflation: InflationLimits(perStream: 1_000_000, total: 3_000_000)
                )
        )
        #expect(configuration.maxMessageSize == 1 << 20)
        let repo = configuration.repoLimits.configuration(peerId: "p", sharePolicy: .requestsOnly)
        #expect(repo.ephemeralSessions == 500 && repo.ephemeralLifetime == .seconds(60))
        #expect(repo.inflation == InflationLimits(perStream: 1_000_000, total: 3_000_000))
        #expect(repo.syncStateInterval == Repo.Configuration.serverSyncStateInterval)
        #expect(throws: ConfigurationError([.invalidMessageSize("1024")])) {
            try ServerConfiguration.parse(["GROUNDMIST_MAX_MESSAGE_BYTES": "1024"])
        }
        #expect(throws: ConfigurationError([.invalidMessageSize("2147483648")])) {
            try ServerConfiguration.parse(["GROUNDMIST_MAX_MESSAGE_BYTES": "2147483648"])
        }
        #expect(throws: ConfigurationError([.invalidLimit(name: "GROUNDMIST_EPHEMERAL_SESSIONS", value: "x")])) {
            try ServerConfiguration.parse(["GROUNDMIST_EPHEMERAL_SESSIONS": "x"])
        }
    }

    /// `.env.example` documents each limit variable with its default: uncommented, every one
    /// parses, and to the default.
    @Test func envExampleShowsEachLimitWithItsDefault() throws {
        let text = try String(contentsOf: SharedFixtures.packageRoot.appendingPathComponent(".env.example"), encoding: .utf8)
        var values = Self.authenticated
        for line in text.split(separator: "\n") where line.hasPrefix("#") {
            let body = line.drop { $0 == "#" || $0 == " " }
            guard let equals = body.firstIndex(of: "="), body[..<equals].allSatisfy({ $0.isUppercase || $0 == "_" }) else { continue }
            let name = String(body[..<equals])
            guard name.contains("PENDING") || name.contains("EPHEMERAL") || name.hasPrefix("GROUNDMIST_DID_") || name.hasPrefix("GROUNDMIST_MAX_")
            else { continue }
            values[name] = String(body[body.index(after: equals)...])
        }
        #expect(values.count == Self.authenticated.count + 14)
        let configuration = try ServerConfiguration.parse(values)
        #expect(configuration.authentication?.loginLimits == .default)
        #expect(configuration.repoLimits == .default)
        #expect(configuration.connectionLimits == .default)
        #expect(configuration.maxMessageSize == ServerConfiguration.defaultMaxMessageSize)
    }

    @Test func theServersDIDResolverUsesTheConfiguredCache() async throws {
        var values = Self.authenticated
        values["GROUNDMIST_DID_FAILURE_CACHE"] = "90s"
        values["GROUNDMIST_DID_CACHE_SIZE"] = "12"
        let authentication = try #require(try ServerConfiguration.parse(values).authentication)
        let transport = AsyncHTTPTransport()
        let resolver = authentication.didResolver(transport: transport, logger: Logger(label: "test"))
        #expect(resolver.failureLifetime == 90)
        #expect(resolver.maximumEntries == 12)
        try await transport.shutdown()
    }
}
