import ATProto
import AutomergeCore
import AutomergeRepo
import Crypto
import Foundation
import TestSupport
import Testing

@testable import GroundmistSync

/// End to end over loopback: login → sync token → WebSocket → group repo.
@Suite struct AuthFlowTests {
    static let actor = ActorId(Array(repeating: 0x5a, count: 16))

    /// Connects a Swift client with `token`, writes `count` changes to `document` and waits until
    /// the server holds them.
    static func sync(port: Int, token: String, document: DocumentId, count: Int = 3) async throws {
        let client = RepoClient(peerId: "client-\(UUID().uuidString)", storageId: "storage-\(UUID().uuidString)")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                _ = try await RepoWebSocketClient(url: "ws://127.0.0.1:\(port)/?token=\(token)", endpoint: client, logger: quietLogger).run()
            }
            try await eventually("joined") { await client.isJoined }
            for value in 1...count {
                let graph = await client.graph(of: document)
                try await client.apply([LiveSyncTests.change(on: graph, actor: actor, key: "k", value: Int64(value))], to: document)
            }
            try await client.waitUntilServerHas(await client.heads(of: document), in: document)
            await client.close()
            group.cancelAll()
        }
    }

    @Test func serviceAuthLoginThenWebSocketSyncIntoTheGroupFolder() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory)
            let document = DocumentId.random()
            try await withAuthServer(authority: authority) { port in
                let (token, root) = try await serviceAuthLogin(port: port, owner: owner, rootDocUrl: document.url)
                #expect(root == document.url)
                try await Self.sync(port: port, token: token, document: document)
                // The XRPC alias works the same way.
                let jwt = try owner.serviceAuthToken(aud: "did:web:sync.example.com")
                let (alias, object) = try await postAuthenticate(
                    port: port,
                    path: "/xrpc/xyz.groundmist.sync.authenticate",
                    headers: [("Authorization", "Bearer \(jwt)")]
                )
                #expect(alias.status == 200)
                #expect(alias.body.hasPrefix(#"{"result":"OK","token":""#))
                #expect(object["rootDocUrl"] as? String == document.url)
            }
            // Stored where the original server stored this group.
            let storage = try NodeFSRepoStorage(directory: URL(fileURLWithPath: dataDirectory).appendingPathComponent("xyz/groundmist/library"))
            let stored = try #require(try await storage.loadDocument(document)?.graph)
            #expect(stored.count == 3)
            let sessions = await authority.sessions.all()
            #expect(sessions.count == 2)
            #expect(sessions.allSatisfy { $0.status == .approved && $0.method == .serviceAuth && $0.group == "xyz.groundmist.library" })
        }
    }

    @Test func forgedExpiredAndWrongTokensAreRefusedBeforeTheUpgrade() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let clock = ManualClock(Date().timeIntervalSince1970)
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory, tokenLifetime: 3600, clock: clock)
            try await withAuthServer(authority: authority) { port in
                // Issued by the server's (manual) clock: a slow machine must not make it look future-dated.
                let (token, _) = try await serviceAuthLogin(port: port, owner: owner, issuedAt: clock.now())
                #expect(try await upgradeStatus(port: port, path: "/?token=\(token)") == 101)
                #expect(try await upgradeStatus(port: port, path: "/", headers: [("Authorization", "Bearer \(token)")]) == 101)

                // Missing, garbage, tampered, other secret, alg none.
                #expect(try await upgradeStatus(port: port, path: "/") == 401)
                #expect(try await upgradeStatus(port: port, path: "/?token=garbage") == 401)
                let parts = token.split(separator: ".").map(String.init)
                let claimsJSON = String(decoding: try #require(Base64URL.decode(parts[1])), as: UTF8.self)
                #expect(claimsJSON.contains("xyz.groundmist.library"))
                let tamperedClaims = claimsJSON.replacingOccurrences(of: "xyz.groundmist.library", with: "xyz.groundmist.notebook")
                let tampered = parts[0] + "." + Base64URL.encode(Array(tamperedClaims.utf8)) + "." + parts[2]
                #expect(try await upgradeStatus(port: port, path: "/?token=\(tampered)") == 401)
                let none = Base64URL.encode(Array(#"{"alg":"none","typ":"JWT"}"#.utf8)) + "." + parts[1] + "."
                #expect(try await upgradeStatus(port: port, path: "/?token=\(none)") == 401)
                let otherKeyTokens = await SyncTokens(secret: Secret(text: "another-secret-of-at-least-32-bytes!!"), ownerDID: owner.did.string)
                let session = try #require(await authority.sessions.all().first)
                let otherSecret = try await otherKeyTokens.mint(session: session)
                #expect(try await upgradeStatus(port: port, path: "/?token=\(otherSecret)") == 401)

                // A token for a session that does not exist (signed with the right secret).
                let ghost = Session(
                    id: "0000000000000000",
                    group: "xyz.groundmist.library",
                    method: .cli,
                    created: Date(),
                    expires: Date().addingTimeInterval(3600),
                    status: .approved
                )
                #expect(try await upgradeStatus(port: port, path: "/?token=\(try await authority.tokens.mint(session: ghost))") == 401)

                // Wrong group: a valid session of group A presenting a token that claims group B.
                let wrongGroup = Session(
                    id: session.id,
                    group: "xyz.groundmist.notebook.essay",
                    method: .cli,
                    created: Date(),
                    expires: Date().addingTimeInterval(3600),
                    status: .approved
                )
                #expect(try await upgradeStatus(port: port, path: "/?token=\(try await authority.tokens.mint(session: wrongGroup))") == 401)

                // Revoked.
                _ = try await authority.sessions.setStatus(session.id, .revoked)
                #expect(try await upgradeStatus(port: port, path: "/?token=\(token)") == 401)

                // Expired: a fresh session, then the clock passes its token's expiry.
                let (fresh, _) = try await serviceAuthLogin(port: port, owner: owner, issuedAt: clock.now())
                #expect(try await upgradeStatus(port: port, path: "/?token=\(fresh)") == 101)
                clock.advance(by: 3601)
                #expect(try await upgradeStatus(port: port, path: "/?token=\(fresh)") == 401)
            }
        }
    }

    @Test func serviceAuthFailuresAnswerJSONWithTheRightStatus() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory)
            try await withAuthServer(authority: authority) { port in
                // Replay: the same service-auth JWT twice.
                let jwt = try owner.serviceAuthToken(aud: owner.serviceAudience)
                let (first, _) = try await postAuthenticate(port: port, headers: [("Authorization", "Bearer \(jwt)")])
                #expect(first.status == 200)
                let (replayed, replayedBody) = try await postAuthenticate(port: port, headers: [("Authorization", "Bearer \(jwt)")])
                #expect(replayed.status == 401)
                #expect(replayedBody["error"] as? String == "JwtReplayed")
                #expect(replayedBody["message"] is String)

                // Signed by another key, wrong audience, wrong method, other account, expired.
                let cases: [(String, String)] = [
                    (try owner.serviceAuthToken(aud: owner.serviceAudience, signer: .init()), "BadJwtSignature"),
                    (try owner.serviceAuthToken(aud: "did:web:elsewhere.example#groundmist_sync"), "BadJwtAudience"),
                    (try owner.serviceAuthToken(aud: owner.serviceAudience, lxm: "com.atproto.repo.putRecord"), "BadJwtLexiconMethod"),
                    (try owner.serviceAuthToken(aud: owner.serviceAudience, iss: "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"), "BadJwtIss"),
                    (try owner.serviceAuthToken(aud: owner.serviceAudience, iat: Date().timeIntervalSince1970 - 200, lifetime: 60), "JwtExpired"),
                ]
                for (token, expected) in cases {
                    let (response, body) = try await postAuthenticate(port: port, headers: [("Authorization", "Bearer \(token)")])
                    #expect(response.status == 401, "\(expected)")
                    #expect(body["error"] as? String == expected)
                    #expect(response.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
                }

                // Missing credentials, malformed header, malformed bodies.
                let (missing, missingBody) = try await postAuthenticate(port: port, headers: [])
                #expect(missing.status == 401)
                #expect(missingBody["error"] as? String == "AuthMissing")
                let (malformed, _) = try await postAuthenticate(port: port, headers: [("Authorization", "Basic abc")])
                #expect(malformed.status == 400)
                for body in [
                    "not json", "[]", #"{"rootDocUrl":null}"#, #"{"lexiconAuthorityDomain":"../etc"}"#,
                    #"{"lexiconAuthorityDomain":"xyz.groundmist.library","rootDocUrl":"http://x"}"#, #"{"lexiconAuthorityDomain":7}"#,
                ] {
                    let response = try await httpRequest(
                        port: port,
                        method: "POST",
                        path: "/authenticate",
                        headers: [
                            ("Authorization", "Bearer \(try owner.serviceAuthToken(aud: owner.serviceAudience))"),
                            ("Content-Type", "application/json"),
                        ],
                        body: body
                    )
                    #expect(response.status == 400, "\(body)")
                    let object = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
                    #expect(object?["error"] as? String == "InvalidRequest")
                }
            }
        }
    }

    @Test func unresolvableOwnerGives503WithRetryAfter() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory, resolver: InMemoryDIDResolver())
            try await withAuthServer(authority: authority) { port in
                let jwt = try owner.serviceAuthToken(aud: owner.serviceAudience)
                let (response, body) = try await postAuthenticate(port: port, headers: [("Authorization", "Bearer \(jwt)")])
                #expect(response.status == 503)
                #expect(response.headers["retry-after"] == "30")
                #expect(body["error"] as? String == "IdentityUnavailable")
            }
        }
    }

    @Test func groupsAreIsolated() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory)
            let document = DocumentId.random()
            try await withAuthServer(authority: authority) { port in
                let (library, _) = try await serviceAuthLogin(port: port, owner: owner, group: "xyz.groundmist.library")
                let (essays, _) = try await serviceAuthLogin(port: port, owner: owner, group: "xyz.groundmist.notebook.essay")
                try await Self.sync(port: port, token: library, document: document)
                // The other group's connection asks for the same id: unavailable there.
                let asker = RepoClient(peerId: "asker")
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        _ = try await RepoWebSocketClient(url: "ws://127.0.0.1:\(port)/?token=\(essays)", endpoint: asker, logger: quietLogger).run()
                    }
                    try await eventually("joined") { await asker.isJoined }
                    await asker.request(document)
                    try await eventually("told unavailable") { await asker.unavailable.contains(document) }
                    #expect(await asker.changeCount(of: document) == 0)
                    await asker.close()
                    group.cancelAll()
                }
            }
            let other = try NodeFSRepoStorage(directory: URL(fileURLWithPath: dataDirectory).appendingPathComponent("xyz/groundmist/notebook/essay"))
            #expect(try await other.loadDocument(document) == nil)
        }
    }

    @Test func rootDocumentRegistrySurvivesRestartAndIsRequestedOnJoin() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let first = DocumentId.random()
            let second = DocumentId.random()
            let earlierToken = try await withAuthServer(authority: try await makeAuthority(owner: owner, dataDirectory: dataDirectory)) { port in
                let (token, root) = try await serviceAuthLogin(port: port, owner: owner, rootDocUrl: first.url)
                #expect(root == first.url)
                let (_, again) = try await serviceAuthLogin(port: port, owner: owner, rootDocUrl: second.url)
                #expect(again == first.url)
                return token
            }
            // A new process: sessions, the registry and the group repo come back from disk.
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory)
            try await withAuthServer(authority: authority) { port in
                // A token from before the restart reaches its group before any new login.
                #expect(try await upgradeStatus(port: port, path: "/?token=\(earlierToken)") == 101)
                let (token, root) = try await serviceAuthLogin(port: port, owner: owner, rootDocUrl: second.url)
                #expect(root == first.url)
                let (_, unset) = try await serviceAuthLogin(port: port, owner: owner, rootDocUrl: nil)
                #expect(unset == first.url)
                // A peer that never offers documents (like the Editor) is asked for the root.
                let peer = RepoClient(peerId: "editor-tab", mode: .scripted)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        _ = try? await RepoWebSocketClient(url: "ws://127.0.0.1:\(port)/?token=\(token)", endpoint: peer, logger: quietLogger).run()
                    }
                    try await eventually("connected") { await peer.isConnected }
                    let reply = try await LiveProtocolTests.join(peer, "editor-tab")
                    guard case .peer = reply else {
                        Issue.record("expected peer, got \(reply)")
                        return
                    }
                    let next = try await peer.next()
                    guard case .request(let request) = next else {
                        Issue.record("expected a request for the root document, got \(next)")
                        return
                    }
                    #expect(request.documentId == first.string)
                    await peer.close()
                    group.cancelAll()
                }
            }
        }
    }
}
