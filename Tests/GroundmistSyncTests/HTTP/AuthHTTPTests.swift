import ATProto
import AutomergeRepo
import Foundation
import MetricsTestKit
import TestSupport
import Testing

@testable import GroundmistSync

/// CORS, the DID document and revocation of live connections.
@Suite struct AuthHTTPTests {
    @Test func corsPreflightAndHeadersFollowTheAllowList() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory)
            try await withAuthServer(authority: authority) { port in
                let preflight = try await httpRequest(
                    port: port,
                    method: "OPTIONS",
                    path: "/authenticate",
                    headers: [
                        ("Origin", "https://library.groundmist.xyz"), ("Access-Control-Request-Method", "POST"),
                        ("Access-Control-Request-Headers", "authorization,dpop,content-type"),
                    ]
                )
                #expect(preflight.status == 200)
                #expect(preflight.headers["allow"] == "POST")
                #expect(preflight.body == "POST")
                #expect(preflight.headers["access-control-allow-origin"] == "https://library.groundmist.xyz")
                #expect(preflight.headers["access-control-allow-credentials"] == "true")
                #expect(preflight.headers["access-control-allow-methods"] == "POST, OPTIONS")
                #expect(preflight.headers["access-control-allow-headers"] == "Content-Type, Authorization, DPoP")
                #expect(preflight.headers["access-control-max-age"] == "86400")
                #expect(preflight.headers["access-control-expose-headers"] == "WWW-Authenticate, DPoP-Nonce")

                let xrpc = try await httpRequest(
                    port: port,
                    method: "OPTIONS",
                    path: "/xrpc/xyz.groundmist.sync.authenticate",
                    headers: [("Origin", "https://editor.groundmist.xyz")]
                )
                #expect(xrpc.status == 200)
                #expect(xrpc.headers["access-control-allow-origin"] == "https://editor.groundmist.xyz")

                // An origin outside the list gets no Allow-Origin, so the browser blocks it.
                let stranger = try await httpRequest(
                    port: port,
                    method: "OPTIONS",
                    path: "/authenticate",
                    headers: [("Origin", "https://evil.example")]
                )
                #expect(stranger.headers["access-control-allow-origin"] == nil)
                #expect(stranger.headers["access-control-allow-credentials"] == nil)

                // Error responses carry the CORS headers too, and JSON bodies.
                let (refused, body) = try await postAuthenticate(port: port, headers: [("Origin", "https://library.groundmist.xyz")])
                #expect(refused.status == 401)
                #expect(refused.headers["access-control-allow-origin"] == "https://library.groundmist.xyz")
                #expect(body["error"] as? String == "AuthMissing")
                let missing = try await httpRequest(port: port, path: "/nope", headers: [("Origin", "https://library.groundmist.xyz")])
                #expect(missing.status == 404)
                #expect(missing.headers["access-control-allow-origin"] == "https://library.groundmist.xyz")

                let root = try await httpRequest(port: port, path: "/")
                #expect(root.body == GroundmistServer.rootText)
                #expect(try await httpRequest(port: port, path: "/healthz").status == 200)
            }
        }
    }

    @Test func servesTheServiceDIDDocument() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory)
            try await withAuthServer(authority: authority) { port in
                let response = try await httpRequest(port: port, path: "/.well-known/did.json")
                #expect(response.status == 200)
                let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
                #expect(object["id"] as? String == "did:web:sync.example.com")
                let services = try #require(object["service"] as? [[String: Any]])
                #expect(services.first?["id"] as? String == "#groundmist_sync")
                #expect(services.first?["serviceEndpoint"] as? String == "https://sync.example.com")
            }
        }
    }

    @Test func revokingASessionFromAnotherProcessDropsItsConnections() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory)
            try await withAuthServer(authority: authority) { port in
                let (token, _) = try await serviceAuthLogin(port: port, owner: owner)
                let client = RepoClient(peerId: "long-lived")
                let ended = Collector<Bool>()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        _ = try? await RepoWebSocketClient(url: "ws://127.0.0.1:\(port)/?token=\(token)", endpoint: client, logger: quietLogger).run()
                        ended.append(true)
                    }
                    try await eventually("joined") { await client.isJoined }
                    let session = try #require(await authority.sessions.all().first)
                    #expect(await authority.liveConnections.count(of: session.id) == 1)
                    let cli = try SessionStore(dataDirectory: dataDirectory)
                    _ = try await cli.setStatus(session.id, .revoked)
                    try await eventually("connection dropped") { !ended.values.isEmpty }
                    #expect(try await upgradeStatus(port: port, path: "/?token=\(token)") == 401)
                    group.cancelAll()
                }
            }
        }
    }

    @Test func nonLoopbackIsAllowedOnlyWithAuthentication() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory)
            _ = try GroundmistServer(configuration: ServerConfiguration(host: "0.0.0.0"), authority: authority)
            #expect(throws: GroundmistServerError.nonLoopbackWithoutAuthentication(host: "0.0.0.0")) {
                try GroundmistServer(configuration: ServerConfiguration(host: "0.0.0.0"), endpoint: UnavailableEndpoint())
            }
        }
    }
}

@Suite struct AuthMetricsTests {
    @Test func failuresAreCountedByReason() async throws {
        let owner = try TestOwner()
        let metrics = TestMetrics()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory, metrics: metrics)
            try await withAuthServer(authority: authority) { port in
                _ = try await postAuthenticate(port: port, headers: [])
                _ = try await postAuthenticate(
                    port: port,
                    headers: [("Authorization", "Bearer \(try owner.serviceAuthToken(aud: "did:web:other.example"))")]
                )
                #expect(try await upgradeStatus(port: port, path: "/") == 401)
                #expect(try await upgradeStatus(port: port, path: "/?token=x") == 401)
                let (token, _) = try await serviceAuthLogin(port: port, owner: owner)
                #expect(try await upgradeStatus(port: port, path: "/?token=\(token)") == 101)
            }
        }
        let label = GroundmistMetrics.authFailuresLabel
        #expect(metrics.counterTotal(label: label, dimensions: [("reason", "missing_credentials")]) == 1)
        #expect(metrics.counterTotal(label: label, dimensions: [("reason", "bad_jwt_audience")]) == 1)
        #expect(metrics.counterTotal(label: label, dimensions: [("reason", "token_missing")]) == 1)
        #expect(metrics.counterTotal(label: label, dimensions: [("reason", "token_malformed")]) == 1)
        #expect(metrics.counterTotal(label: label) == 4)
    }
}
