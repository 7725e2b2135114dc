import ATProto
import AutomergeRepo
import Foundation
import JWTKit
import NIOCore
import TestSupport
import Testing

@testable import GroundmistSync

/// A DPoP login the owner has not approved must not change the server's state (review item 1),
/// and what it records about its client must be safe to print (item 2).
@Suite struct PendingLoginTests {
    static let group = "xyz.groundmist.library"

    static func groupDirectory(_ dataDirectory: String) -> String {
        dataDirectory + "/" + group.split(separator: ".").joined(separator: "/")
    }

    @Test func pendingLoginRegistersNothingUntilApprovedAndConnected() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory, dpopLogin: .approve)
            let app = TestDPoPApp()
            let submitted = AutomergeURL(documentId: DocumentId.random()).description
            let other = AutomergeURL(documentId: DocumentId.random()).description
            try await withAuthServer(authority: authority) { port in
                let (response, body) = try await DPoPLoginTests.login(port: port, app: app, owner: owner, rootDocUrl: submitted)
                #expect(response.status == 200)
                // The submitted root is echoed, but not registered; no group folder, no repo.
                #expect(body["rootDocUrl"] as? String == submitted)
                let token = try #require(body["token"] as? String)
                #expect(await authority.roots.root(of: Self.group) == nil)
                #expect(!FileManager.default.fileExists(atPath: Self.groupDirectory(dataDirectory)))
                #expect(await authority.groups.openRepos.isEmpty)
                let pending = try #require(await authority.sessions.all().first)
                #expect(pending.rootDocUrl == submitted)
                // Pending: the session's approval window is a day, the token outlives it.
                #expect(pending.expires.timeIntervalSince(pending.created) == SessionStore.pendingLifetime)
                let claims = try await authority.tokens.verify(token)
                #expect(claims.exp.value.timeIntervalSince(pending.created) > SessionStore.pendingLifetime)

                // Another unapproved app cannot claim the root either: it gets its own echoed back.
                let (_, otherBody) = try await DPoPLoginTests.login(port: port, app: TestDPoPApp(), owner: owner, rootDocUrl: other)
                #expect(otherBody["rootDocUrl"] as? String == other)
                #expect(await authority.roots.root(of: Self.group) == nil)

                // Approved, its first connection registers the root and opens the repo.
                let cli = try SessionStore(dataDirectory: dataDirectory)
                _ = try await cli.setStatus(pending.id, .approved)
                try await AuthFlowTests.sync(port: port, token: token, document: DocumentId.random())
                #expect(await authority.roots.root(of: Self.group)?.description == submitted)
                #expect(FileManager.default.fileExists(atPath: Self.groupDirectory(dataDirectory)))
                let approved = try #require(await authority.sessions.session(pending.id))
                #expect(approved.rootDocUrl == nil)
                #expect(approved.expires == claims.exp.value)

                // A later pending login still gets only its own root back: an unapproved client
                // learns nothing about the group's registered root (or that the group exists).
                let (_, laterBody) = try await DPoPLoginTests.login(port: port, app: TestDPoPApp(), owner: owner, rootDocUrl: other)
                #expect(laterBody["rootDocUrl"] as? String == other)
                let (_, silentBody) = try await DPoPLoginTests.login(port: port, app: TestDPoPApp(), owner: owner)
                #expect(silentBody["rootDocUrl"] is NSNull)
            }
        }
    }

    @Test func pendingSessionsAreCappedAndExpire() async throws {
        try await withTemporaryDirectory { dataDirectory in
            let clock = ManualClock(1_700_000_000)
            let store = try SessionStore(dataDirectory: dataDirectory, now: { Date(timeIntervalSince1970: clock.now()) })
            let approved = try await store.create(group: Self.group, method: .cli, status: .approved, lifetime: 30 * 86400)
            var pending: [Session] = []
            for index in 0..<(LoginLimits.default.maximumPending + 3) {
                clock.advance(by: 1)
                pending.append(
                    try await store.create(
                        group: Self.group,
                        method: .dpop,
                        status: .pending,
                        lifetime: 30 * 86400,
                        keyThumbprint: "key-\(index)"
                    )
                )
            }
            let remaining = await store.all()
            #expect(remaining.filter { $0.status == .pending }.count == LoginLimits.default.maximumPending)
            // The oldest pending ones were evicted; the approved session was not touched.
            #expect(await store.session(pending[0].id) == nil)
            #expect(await store.session(pending[2].id) == nil)
            #expect(await store.session(pending[3].id) != nil)
            #expect(await store.session(approved.id) != nil)
            #expect(pending.allSatisfy { $0.expires.timeIntervalSince($0.created) == SessionStore.pendingLifetime })

            // A day later the pending ones are gone at the next write; the approved one stays.
            clock.advance(by: SessionStore.pendingLifetime + 60)
            #expect(await store.reusable(keyThumbprint: "key-5", group: Self.group) == nil)
            _ = try await store.create(group: Self.group, method: .cli, status: .approved, lifetime: 3600)
            #expect(await store.all().filter { $0.status == .pending }.isEmpty)
            #expect(await store.session(approved.id) != nil)
        }
    }

    @Test func sessionFilesWithoutTheNewFieldsStillLoad() async throws {
        try await withTemporaryDirectory { dataDirectory in
            let json = """
                {"version":1,"sessions":[{"id":"0123456789abcdef","group":"xyz.groundmist.library","method":"dpop",\
                "clientId":"https://library.groundmist.xyz/client-metadata.json","keyThumbprint":"abc",\
                "created":"2030-01-01T00:00:00Z","expires":"2030-01-31T00:00:00Z","status":"approved"}]}
                """
            let state = dataDirectory + "/.groundmist"
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            try Data(json.utf8).write(to: URL(fileURLWithPath: state + "/sessions.json"))
            let store = try SessionStore(dataDirectory: dataDirectory)
            let session = try #require(await store.session("0123456789abcdef"))
            #expect(session.rootDocUrl == nil)
            #expect(session.userAgent == nil)
            #expect(session.status == .approved)
        }
    }

    @Test func clientLabelsAreSanitised() async throws {
        #expect(Session.sanitized("\u{1b}[2K\rapproved\nok é") == "?[2K?approved?ok ?")
        #expect(Session.sanitized(String(repeating: "a", count: 500))?.count == Session.maximumLabelLength)
        #expect(Session.sanitized(nil) == nil)
        try await withTemporaryDirectory { dataDirectory in
            let store = try SessionStore(dataDirectory: dataDirectory)
            let session = try await store.create(
                group: Self.group,
                method: .dpop,
                status: .pending,
                lifetime: 3600,
                clientId: "evil\u{1b}]0;title\u{07}\nfake line",
                userAgent: "Agent\r\nX: y",
                remoteAddress: "::1"
            )
            #expect(session.clientId == "evil?]0;title??fake line")
            #expect(session.userAgent == "Agent??X: y")
            let reloaded = try SessionStore(dataDirectory: dataDirectory)
            #expect(await reloaded.session(session.id)?.clientId == "evil?]0;title??fake line")
        }
    }

    @Test func loginRecordsUserAgentAndAddress() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory, dpopLogin: .approve)
            try await withAuthServer(authority: authority) { port in
                // The peer is loopback (a reverse proxy): its appended X-Forwarded-For entry is the client.
                let (response, _) = try await DPoPLoginTests.login(
                    port: port,
                    app: TestDPoPApp(),
                    owner: owner,
                    extraHeaders: [("User-Agent", "Library/1.0 (Firefox)"), ("X-Forwarded-For", "10.9.9.9, 203.0.113.7")]
                )
                #expect(response.status == 200)
                let session = try #require(await authority.sessions.all().first)
                #expect(session.userAgent == "Library/1.0 (Firefox)")
                #expect(session.remoteAddress == "203.0.113.7")
            }
        }
    }

    @Test func forwardedForIsTrustedOnlyFromLoopback() throws {
        let loopback = try SocketAddress(ipAddress: "127.0.0.1", port: 4000)
        let remote = try SocketAddress(ipAddress: "198.51.100.4", port: 4000)
        #expect(AuthenticateRoutes.clientAddress(peer: loopback, forwardedFor: ["1.1.1.1, 203.0.113.7"]) == "203.0.113.7")
        #expect(AuthenticateRoutes.clientAddress(peer: loopback, forwardedFor: []) == "127.0.0.1")
        #expect(AuthenticateRoutes.clientAddress(peer: remote, forwardedFor: ["203.0.113.7"]) == "198.51.100.4")
        #expect(AuthenticateRoutes.clientAddress(peer: nil, forwardedFor: ["203.0.113.7"]) == nil)
    }

    /// Review item 10: a DPoP request with a malformed body still gets a nonce.
    @Test func malformedDPoPBodyStillCarriesANonce() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory)
            try await withAuthServer(authority: authority) { port in
                let app = TestDPoPApp()
                let token = app.accessToken(sub: owner.did.string)
                let response = try await httpRequest(
                    port: port,
                    method: "POST",
                    path: "/authenticate",
                    headers: [
                        ("Authorization", "DPoP \(token)"), ("DPoP", try app.proof(htu: DPoPLoginTests.htu, accessToken: token, nonce: nil)),
                        ("Content-Type", "application/json"),
                    ],
                    body: "{not json"
                )
                #expect(response.status == 400)
                #expect(response.headers["dpop-nonce"]?.isEmpty == false)
            }
        }
    }
}
