import ATProto
import Foundation
import NIOCore
import Testing

@testable import GroundmistSync

/// The settings self-hosting depends on: the fail-closed switch and the trusted proxies.
@Suite struct DeploymentConfigurationTests {
    static let complete = [
        "ATPROTO_DID": "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
        "GROUNDMIST_SYNC_SECRET_KEY": String(repeating: "ab", count: 32),
        "PUBLIC_URL": "https://sync.example.com",
    ]

    @Test func requireAuthRefusesTheDevelopmentMode() {
        for value in ["1", "true", "YES", "on"] {
            #expect(throws: ConfigurationError([.authenticationRequired]), "\(value)") {
                try ServerConfiguration.parse(["GROUNDMIST_REQUIRE_AUTH": value])
            }
        }
        // Without the switch the same (empty) settings are the development mode.
        #expect((try? ServerConfiguration.parse([:]))?.authentication == nil)
        for value in ["0", "false", "no", "off", ""] {
            #expect((try? ServerConfiguration.parse(["GROUNDMIST_REQUIRE_AUTH": value]))?.requireAuthentication == false, "\(value)")
        }
    }

    @Test func requireAuthReportsTheMissingSettingsToo() {
        // ATPROTO_DID set but the rest missing: the usual problems, which already stop the start.
        do {
            _ = try ServerConfiguration.parse(["GROUNDMIST_REQUIRE_AUTH": "1", "ATPROTO_DID": Self.complete["ATPROTO_DID"] ?? ""])
            Issue.record("an incomplete configuration must not load")
        } catch {
            #expect(error.problems.contains(.missingSecretKey))
            #expect(error.problems.contains(.missingPublicURL))
            #expect(!error.problems.contains(.authenticationRequired))
        }
        #expect(throws: ConfigurationError([.invalidRequireAuth("maybe")])) {
            try ServerConfiguration.parse(["GROUNDMIST_REQUIRE_AUTH": "maybe"])
        }
        #expect(ConfigurationProblem.authenticationRequired.description.contains("ATPROTO_DID"))
    }

    @Test func requireAuthWithCompleteSettingsStarts() throws {
        var values = Self.complete
        values["GROUNDMIST_REQUIRE_AUTH"] = "1"
        let configuration = try ServerConfiguration.parse(values)
        #expect(configuration.requireAuthentication)
        #expect(configuration.authentication?.ownerDID.string == "did:plc:ewvi7nxzyoun6zhxrhs64oiz")
        #expect(configuration.authentication?.trustedProxies == .loopback)
    }

    @Test func trustedProxiesParse() throws {
        var values = Self.complete
        values["GROUNDMIST_TRUSTED_PROXIES"] = " 172.16.0.0/12, 10.1.2.3 ,fd00::/8,::1"
        let proxies = try #require(try ServerConfiguration.parse(values).authentication?.trustedProxies)
        #expect(proxies.ranges.count == 4)
        #expect(proxies.contains("172.17.0.1"))
        #expect(proxies.contains("172.31.255.255"))
        #expect(!proxies.contains("172.32.0.1"))
        #expect(proxies.contains("10.1.2.3"))
        #expect(!proxies.contains("10.1.2.4"))
        #expect(proxies.contains("fd12:3456::1"))
        #expect(proxies.contains("::1"))
        #expect(!proxies.contains("127.0.0.1"))
        // IPv4-mapped IPv6 peers (a dual-stack socket) match IPv4 ranges.
        #expect(proxies.contains("::ffff:172.18.0.5"))
        #expect(!proxies.contains("not-an-address"))
        #expect(proxies.description == "172.16.0.0/12,10.1.2.3/32,fd00:0:0:0:0:0:0:0/8,0:0:0:0:0:0:0:1/128")
        values["GROUNDMIST_TRUSTED_PROXIES"] = "none"
        #expect(try ServerConfiguration.parse(values).authentication?.trustedProxies == TrustedProxies.none)
    }

    @Test(arguments: ["10.0.0.0/33", "::/129", "1.2.3", "example.com", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "/8", "1.2.3.4/ 8"])
    func badTrustedProxiesAreReported(_ entry: String) {
        var values = Self.complete
        values["GROUNDMIST_TRUSTED_PROXIES"] = "127.0.0.1," + entry
        #expect(throws: ConfigurationError([.invalidTrustedProxy(entry.trimmingCharacters(in: .whitespaces))])) {
            try ServerConfiguration.parse(values)
        }
    }

    @Test func clientAddressWalksPastTrustedProxies() throws {
        let docker = try #require(try? TrustedProxies.parse("127.0.0.0/8,172.16.0.0/12").get())
        // Caddy in another container: the peer is Caddy, the last entry the client.
        #expect(docker.clientAddress(peer: "172.30.53.3", forwardedFor: ["203.0.113.7"]) == "203.0.113.7")
        // Two trusted hops (a load balancer, then Caddy): the first untrusted entry from the right.
        #expect(docker.clientAddress(peer: "172.30.53.3", forwardedFor: ["198.51.100.1, 203.0.113.7, 172.17.0.1"]) == "203.0.113.7")
        // A client claiming an address in the header cannot get past the entry the proxy appended.
        #expect(docker.clientAddress(peer: "127.0.0.1", forwardedFor: ["10.9.9.9", "203.0.113.7"]) == "203.0.113.7")
        // An untrusted peer's header is ignored.
        #expect(docker.clientAddress(peer: "198.51.100.4", forwardedFor: ["203.0.113.7"]) == "198.51.100.4")
        // Garbage ends the chain at the last good hop.
        #expect(docker.clientAddress(peer: "172.17.0.1", forwardedFor: ["unknown"]) == "172.17.0.1")
        #expect(docker.clientAddress(peer: "172.17.0.1", forwardedFor: []) == "172.17.0.1")
        // The default trusts loopback only: the Docker gateway is not believed.
        #expect(TrustedProxies.loopback.clientAddress(peer: "172.17.0.1", forwardedFor: ["203.0.113.7"]) == "172.17.0.1")
        #expect(TrustedProxies.none.clientAddress(peer: "127.0.0.1", forwardedFor: ["203.0.113.7"]) == "127.0.0.1")
        let peer = try SocketAddress(ipAddress: "172.18.0.2", port: 40000)
        #expect(AuthenticateRoutes.clientAddress(peer: peer, forwardedFor: ["203.0.113.9"], trustedProxies: docker) == "203.0.113.9")
    }

    @Test func theVersionIsSemantic() {
        let parts = GroundmistVersion.current.split(separator: ".")
        #expect(parts.count == 3 && parts.allSatisfy { Int($0) != nil })
    }
}
