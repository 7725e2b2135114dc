import ATProto
import AutomergeRepo
import Foundation
import TestSupport
import Testing

@testable import GroundmistSync

/// The DPoP path today's apps use: nonce handshake, pending until approved, `trust` and `off`.
@Suite struct DPoPLoginTests {
    static let htu = testPublicURL + "/authenticate"

    /// Performs the app's login: a first proof without nonce, then the retry with the server's nonce.
    static func login(
        port: Int,
        app: TestDPoPApp,
        owner: TestOwner,
        accessToken: String? = nil,
        rootDocUrl: String? = nil,
        extraHeaders: [(String, String)] = []
    ) async throws -> (HTTPResult, [String: Any]) {
        let token = accessToken ?? app.accessToken(sub: owner.did.string)
        let (challenge, challengeBody) = try await postAuthenticate(
            port: port,
            headers: [
                ("Authorization", "DPoP \(token)"), ("DPoP", try app.proof(htu: htu, accessToken: token, nonce: nil)),
                ("Origin", "https://library.groundmist.xyz"),
            ]
        )
        #expect(challenge.status == 401)
        #expect(challengeBody["error"] as? String == "use_dpop_nonce")
        #expect(challenge.headers["www-authenticate"]?.hasPrefix("DPoP") == true)
        #expect(challenge.headers["www-authenticate"]?.contains(#"error="use_dpop_nonce""#) == true)
        #expect(challenge.headers["access-control-expose-headers"]?.contains("DPoP-Nonce") == true)
        let nonce = try #require(challenge.headers["dpop-nonce"])
        return try await postAuthenticate(
            port: port,
            headers: [("Authorization", "DPoP \(token)"), ("DPoP", try app.proof(htu: htu, accessToken: token, nonce: nonce))] + extraHeaders,
            rootDocUrl: rootDocUrl
        )
    }

    @Test func approveModeWaitsForTheOwnerThenSyncs() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory, dpopLogin: .approve)
            let app = TestDPoPApp()
            try await withAuthServer(authority: authority) { port in
                let (response, body) = try await Self.login(port: port, app: app, owner: owner)
                #expect(response.status == 200)
                #expect(response.headers["dpop-nonce"] != nil)
                let token = try #require(body["token"] as? String)
                #expect(try await upgradeStatus(port: port, path: "/?token=\(token)") == 401)

                let pending = try #require(await authority.sessions.all().first)
                #expect(pending.status == .pending)
                #expect(pending.method == .dpop)
                #expect(pending.clientId == app.clientId)
                // A reload of the app logs in again with the same key: the same session, still pending.
                let (again, againBody) = try await Self.login(port: port, app: app, owner: owner)
                #expect(again.status == 200)
                #expect(againBody["token"] is String)
                #expect(await authority.sessions.all().count == 1)

                // The owner approves from another process: a separate store on the same directory.
                let cli = try SessionStore(dataDirectory: dataDirectory)
                _ = try await cli.setStatus(pending.id, .approved)
                try await AuthFlowTests.sync(port: port, token: token, document: DocumentId.random())
            }
        }
    }

    @Test func trustModeApprovesAtOnce() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory, dpopLogin: .trust)
            try await withAuthServer(authority: authority) { port in
                let (response, body) = try await Self.login(port: port, app: TestDPoPApp(), owner: owner)
                #expect(response.status == 200)
                let token = try #require(body["token"] as? String)
                #expect(await authority.sessions.all().first?.status == .approved)
                try await AuthFlowTests.sync(port: port, token: token, document: DocumentId.random())
            }
        }
    }

    @Test func offModeRefusesDPoP() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory, dpopLogin: .off)
            try await withAuthServer(authority: authority) { port in
                let app = TestDPoPApp()
                let token = app.accessToken(sub: owner.did.string)
                let (response, body) = try await postAuthenticate(
                    port: port,
                    headers: [("Authorization", "DPoP \(token)"), ("DPoP", try app.proof(htu: Self.htu, accessToken: token, nonce: nil))]
                )
                #expect(response.status == 401)
                #expect(body["error"] as? String == "LegacyAuthDisabled")
                #expect(response.headers["www-authenticate"]?.contains("invalid_token") == false)
                #expect(await authority.sessions.all().isEmpty)
            }
        }
    }

    @Test func badAccessTokensAndProofsAreRefusedWithoutInvalidToken() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory, dpopLogin: .trust)
            try await withAuthServer(authority: authority) { port in
                let app = TestDPoPApp()
                // Get a nonce first.
                let token = app.accessToken(sub: owner.did.string)
                let (challenge, _) = try await postAuthenticate(
                    port: port,
                    headers: [("Authorization", "DPoP \(token)"), ("DPoP", try app.proof(htu: Self.htu, accessToken: token, nonce: nil))]
                )
                let nonce = try #require(challenge.headers["dpop-nonce"])
                let cases: [(accessToken: String, htu: String, label: String)] = [
                    (app.accessToken(sub: "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"), Self.htu, "other account"),
                    (app.accessToken(sub: owner.did.string, exp: Date().timeIntervalSince1970 - 10), Self.htu, "expired"),
                    (app.accessToken(sub: owner.did.string, jkt: TestDPoPApp().thumbprint), Self.htu, "bound to another key"),
                    (token, "http://127.0.0.1:3031/authenticate", "internal htu"),
                ]
                for item in cases {
                    let (response, _) = try await postAuthenticate(
                        port: port,
                        headers: [
                            ("Authorization", "DPoP \(item.accessToken)"),
                            ("DPoP", try app.proof(htu: item.htu, accessToken: item.accessToken, nonce: nonce)),
                        ]
                    )
                    #expect(response.status == 401, "\(item.label)")
                    #expect(response.headers["www-authenticate"]?.contains("invalid_token") == false, "\(item.label)")
                }
                #expect(await authority.sessions.all().isEmpty)

                // A replayed proof is refused; a proof refused for its token is not spent.
                let jti = UUID().uuidString
                let wrong = app.accessToken(sub: "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")
                let (refused, _) = try await postAuthenticate(
                    port: port,
                    headers: [("Authorization", "DPoP \(wrong)"), ("DPoP", try app.proof(htu: Self.htu, accessToken: wrong, nonce: nonce, jti: jti))]
                )
                #expect(refused.status == 401)
                let proof = try app.proof(htu: Self.htu, accessToken: token, nonce: nonce, jti: jti)
                let (accepted, _) = try await postAuthenticate(port: port, headers: [("Authorization", "DPoP \(token)"), ("DPoP", proof)])
                #expect(accepted.status == 200)
                let (replayed, replayedBody) = try await postAuthenticate(port: port, headers: [("Authorization", "DPoP \(token)"), ("DPoP", proof)])
                #expect(replayed.status == 401)
                #expect(replayedBody["error"] as? String == "InvalidDPoPProof")
            }
        }
    }
}
