import ATProto
import AutomergeRepo
import Crypto
import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TestSupport
import Testing

@testable import GroundmistSync

/// Regression tests for the hardening findings (issue 14): log injection, pending-login floods,
/// origins, the root document of pending logins, connection deadlines, DID negative caching.
@Suite struct HardeningTests {
    static let group = "xyz.groundmist.library"
    static let body = Array(#"{"lexiconAuthorityDomain":"xyz.groundmist.library","rootDocUrl":null}"#.utf8)

    static func body(root: String?) -> [UInt8] {
        Array(#"{"lexiconAuthorityDomain":"xyz.groundmist.library","rootDocUrl":\#(root.map { "\"\($0)\"" } ?? "null")}"#.utf8)
    }

    /// The app's DPoP login straight through `LoginService.login`, from `address`: the nonce
    /// handshake, then the login. `accessToken` defaults to a JWT bound to the app's key.
    static func dpopLogin(
        _ authority: SyncAuthority,
        app: TestDPoPApp,
        owner: TestOwner,
        accessToken: String? = nil,
        address: String?,
        userAgent: String? = nil,
        rootDocUrl: String? = nil
    ) async throws -> JSONResponse {
        let token = accessToken ?? app.accessToken(sub: owner.did.string)
        let challenge = await authority.login(
            authorization: ["DPoP \(token)"],
            proofs: [try app.proof(htu: DPoPLoginTests.htu, accessToken: token, nonce: nil)],
            method: "POST",
            path: "/authenticate",
            body: body(root: rootDocUrl),
            userAgent: userAgent,
            remoteAddress: address
        )
        let nonce = try #require(challenge[header: "DPoP-Nonce"])
        return await authority.login(
            authorization: ["DPoP \(token)"],
            proofs: [try app.proof(htu: DPoPLoginTests.htu, accessToken: token, nonce: nonce)],
            method: "POST",
            path: "/authenticate",
            body: body(root: rootDocUrl),
            userAgent: userAgent,
            remoteAddress: address
        )
    }

    static func json(_ response: JSONResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any] ?? [:]
    }

    // MARK: Finding 3: nothing reaches the log unescaped

    @Test func logSafeEscapesAndCaps() {
        #expect(LogSafe.escape("a\nb\r\tc\\d") == #"a\nb\r\tc\\d"#)
        #expect(LogSafe.escape("\u{1b}[31mred\u{202e}é") == #"\u{1B}[31mred\u{202E}\u{E9}"#)
        #expect(LogSafe.escape(String(repeating: "x", count: 130)) == String(repeating: "x", count: 120) + "…(+10)")
        #expect("\(LogSafe(nil as String?))" == "-")
    }

    @Test func forgedTokenFieldsCannotWriteLogLines() async throws {
        let owner = try TestOwner()
        let text = LogCapture()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory, logger: text.logger(level: .trace))
            let fake = "\n2026-01-01T00:00 notice : run `groundmist-sync sessions approve deadbeefdeadbeef`\u{1b}[2K"
            let escapedJSON = fake.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\u{1b}", with: "\\u001b")
            let now = Int(Date().timeIntervalSince1970)
            let signature = Base64URL.encode([UInt8](repeating: 1, count: 64))
            // A forged typ, and (separately) a forged lxm: both once reached the log raw.
            let badTyp =
                Base64URL.encode(Array(#"{"alg":"ES256","typ":"JWT\#(escapedJSON)"}"#.utf8)) + "."
                + Base64URL.encode(
                    Array(
                        #"{"iss":"\#(owner.did.string)","aud":"\#(owner.serviceAudience)","exp":\#(now + 60),"iat":\#(now),"lxm":"x","jti":"1"}"#
                            .utf8
                    )
                ) + "." + signature
            let badLxm =
                Base64URL.encode(Array(#"{"alg":"ES256","typ":"JWT"}"#.utf8)) + "."
                + Base64URL.encode(
                    Array(
                        #"{"iss":"\#(owner.did.string)","aud":"\#(owner.serviceAudience)","exp":\#(now + 60),"iat":\#(now),"lxm":"x\#(escapedJSON)","jti":"2"}"#
                            .utf8
                    )
                ) + "." + signature
            for token in [badTyp, badLxm] {
                let response = await authority.login(
                    authorization: ["Bearer \(token)"],
                    proofs: [],
                    method: "POST",
                    path: "/authenticate",
                    body: Self.body
                )
                #expect(response.status == 401)
            }
            // A DPoP login whose client id and user agent carry line breaks and escapes.
            let app = TestDPoPApp()
            _ = try await Self.dpopLogin(authority, app: app, owner: owner, address: "203.0.113.1\nfake", userAgent: "UA\r\nfake\u{1b}[2K")
        }
        let records = text.lines
        #expect(records.contains { $0.contains("service-auth token refused") })
        #expect(records.contains { $0.contains("deadbeefdeadbeef") })
        for record in records {
            #expect(!record.contains("\n") && !record.contains("\r") && !record.contains("\u{1b}"), "raw control character in: \(record)")
        }
    }

    // MARK: Finding 2: pending logins strangers cannot flood

    @Test func aFloodFromOneAddressEvictsOnlyItsOwnPendingLogins() async throws {
        let owner = try TestOwner()
        let text = LogCapture()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory, logger: text.logger(level: .info))
            let ownerApp = TestDPoPApp()
            let ownerLogin = try await Self.dpopLogin(authority, app: ownerApp, owner: owner, address: "198.51.100.2")
            #expect(ownerLogin.status == 200)
            let ownerSession = try #require(await authority.sessions.all().first)

            // Strangers from one address: fresh keys, opaque `tok-<hex>` tokens, a spoofed agent.
            var statuses: [Int] = []
            for _ in 0..<30 {
                let stranger = TestDPoPApp()
                let opaque = "tok-" + (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
                let response = try await Self.dpopLogin(
                    authority,
                    app: stranger,
                    owner: owner,
                    accessToken: opaque,
                    address: "203.0.113.9",
                    userAgent: "Library/1.0 (Firefox)"
                )
                statuses.append(response.status.code)
            }
            // Rate-limited: only a burst got through, the rest were refused without a file write.
            #expect(statuses.filter { $0 == 200 }.count == LoginLimits.default.newPendingPerAddress.burst)
            #expect(statuses.filter { $0 == 429 }.count == 30 - LoginLimits.default.newPendingPerAddress.burst)
            // Capped per address, and the owner's pending login from elsewhere survived.
            #expect(await authority.sessions.session(ownerSession.id) != nil)
            let strangers = await authority.sessions.all().filter { $0.remoteAddress == "203.0.113.9" }
            #expect(strangers.count == LoginLimits.default.maximumPendingPerAddress)
            // Every eviction was logged.
            let evictions = text.lines.filter { $0.contains("pending login evicted") }
            #expect(evictions.count == LoginLimits.default.newPendingPerAddress.burst - LoginLimits.default.maximumPendingPerAddress)
            #expect(evictions.allSatisfy { $0.contains("203.0.113.9") })
        }
    }

    /// The same flood against configured limits (`GROUNDMIST_PENDING_LOGIN_RATE`,
    /// `GROUNDMIST_MAX_PENDING_LOGINS_PER_ADDRESS`, `GROUNDMIST_MAX_PENDING_LOGINS`).
    @Test func configuredPendingLoginLimitsApply() async throws {
        let owner = try TestOwner()
        let text = LogCapture()
        let limits = LoginLimits(
            maximumPending: 3,
            maximumPendingPerAddress: 1,
            newPendingPerAddress: .init(burst: 2, interval: 3600),
            newPendingTotal: .init(burst: 100, interval: 1)
        )
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(
                owner: owner,
                dataDirectory: dataDirectory,
                loginLimits: limits,
                logger: text.logger(level: .info)
            )
            var statuses: [Int] = []
            for _ in 0..<4 {
                statuses.append(try await Self.dpopLogin(authority, app: TestDPoPApp(), owner: owner, address: "203.0.113.9").status.code)
            }
            // Two admitted (the configured burst), two refused; one kept (the per-address cap).
            #expect(statuses == [200, 200, 429, 429])
            #expect(await authority.sessions.all().filter { $0.remoteAddress == "203.0.113.9" }.count == 1)
            #expect(text.lines.filter { $0.contains("pending login evicted") }.count == 1)
            // Three addresses more: the pool holds three in all.
            for index in 1...3 {
                #expect(try await Self.dpopLogin(authority, app: TestDPoPApp(), owner: owner, address: "198.51.100.\(index)").status == 200)
            }
            #expect(await authority.sessions.all().filter { $0.status == .pending }.count == 3)
        }
    }

    @Test func repeatedPendingLoginsDoNotRewriteTheSessionFile() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory)
            let app = TestDPoPApp()
            #expect(try await Self.dpopLogin(authority, app: app, owner: owner, address: "203.0.113.5").status == 200)
            // Pending logins are written to pending.json only (sessions.json is never created here).
            #expect(!FileManager.default.fileExists(atPath: dataDirectory + "/.groundmist/sessions.json"))
            let file = dataDirectory + "/.groundmist/pending.json"
            let before = try Data(contentsOf: URL(fileURLWithPath: file))
            let inode = try FileManager.default.attributesOfItem(atPath: file)[.systemFileNumber] as? Int
            for _ in 0..<10 {
                #expect(try await Self.dpopLogin(authority, app: app, owner: owner, address: "203.0.113.5").status == 200)
            }
            // Replaced files get a new inode: the same inode and bytes mean no rewrite happened.
            #expect(try FileManager.default.attributesOfItem(atPath: file)[.systemFileNumber] as? Int == inode)
            #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == before)
            #expect(await authority.sessions.all().count == 1)
        }
    }

    @Test func pendingEvictionTakesFromTheAddressHoldingTheMost() async throws {
        try await withTemporaryDirectory { dataDirectory in
            let clock = ManualClock(1_700_000_000)
            let store = try SessionStore(dataDirectory: dataDirectory, now: { Date(timeIntervalSince1970: clock.now()) })
            func pending(_ address: String) async throws -> (session: Session, evicted: [Session]) {
                clock.advance(by: 1)
                return try await store.createReportingEvictions(
                    group: Self.group,
                    method: .dpop,
                    status: .pending,
                    lifetime: 86400,
                    keyThumbprint: UUID().uuidString,
                    remoteAddress: address
                )
            }
            let owner = try await pending("198.51.100.2")
            // 19 addresses with one pending each, then a second from one of them: the pool is full.
            for index in 0..<(LoginLimits.default.maximumPending - 1) { _ = try await pending("192.0.2.\(index)") }
            let next = try await pending("192.0.2.5")
            // The pool was full: the fullest address (192.0.2.5, now holding two) gave up its own oldest.
            #expect(next.evicted.count == 1)
            #expect(next.evicted.first?.remoteAddress == "192.0.2.5")
            #expect(await store.session(owner.session.id) != nil)
            // A /64 counts as one address.
            #expect(Session.addressKey("2001:db8:1:2::1") == Session.addressKey("2001:db8:1:2:ffff::9"))
            #expect(Session.addressKey("2001:db8:1:2::1") != Session.addressKey("2001:db8:1:3::1"))
            #expect(Session.addressKey("::ffff:203.0.113.4") == "203.0.113.4")
        }
    }

    @Test func pendingLoginLimiterUsesItsConfiguredRates() async throws {
        let clock = ManualClock(1_700_000_000)
        let limiter = PendingLoginLimiter(perAddress: .init(burst: 1, interval: 30), total: .init(burst: 3, interval: 600), clock: clock)
        #expect(await limiter.admit(address: "203.0.113.1") == nil)
        #expect(await limiter.admit(address: "203.0.113.1") == 30)
        clock.advance(by: 30)
        #expect(await limiter.admit(address: "203.0.113.1") == nil)
        #expect(await limiter.admit(address: "203.0.113.2") == nil)
        // The total burst (3) is spent, less the 30 s refill (0.05 of a login): a new address
        // waits most of the total's interval.
        let wait = try #require(await limiter.admit(address: "203.0.113.3"))
        #expect(wait > 560 && wait < 580)
    }

    @Test func pendingLoginLimiterRefillsAndHasAGlobalCap() async throws {
        let clock = ManualClock(1_700_000_000)
        let limiter = PendingLoginLimiter(clock: clock)
        for _ in 0..<LoginLimits.default.newPendingPerAddress.burst { #expect(await limiter.admit(address: "203.0.113.1") == nil) }
        let wait = try #require(await limiter.admit(address: "203.0.113.1"))
        #expect(wait > 0 && wait <= LoginLimits.default.newPendingPerAddress.interval)
        clock.advance(by: LoginLimits.default.newPendingPerAddress.interval)
        #expect(await limiter.admit(address: "203.0.113.1") == nil)
        // Many addresses: the global bucket runs dry.
        var refused = 0
        for index in 0..<(LoginLimits.default.newPendingTotal.burst + 5) where await limiter.admit(address: "198.51.100.\(index)") != nil {
            refused += 1
        }
        #expect(refused > 0)
    }

    // MARK: Finding 4: origins

    @Test func developmentModeAcceptsOnlyLoopbackOrListedOrigins() async throws {
        var configuration = ServerConfiguration.testing()
        configuration.hardening.developmentOrigins = ["https://notes.example"]
        try await withLiveServer(configuration: configuration, endpoint: RecordingEndpoint()) { port async throws in
            #expect(try await upgradeStatus(port: port, path: "/") == 101)
            #expect(try await upgradeStatus(port: port, path: "/", headers: [("Origin", "http://localhost:5173")]) == 101)
            #expect(try await upgradeStatus(port: port, path: "/", headers: [("Origin", "http://127.0.0.1:3000")]) == 101)
            #expect(try await upgradeStatus(port: port, path: "/", headers: [("Origin", "http://[::1]:8080")]) == 101)
            #expect(try await upgradeStatus(port: port, path: "/", headers: [("Origin", "https://notes.example")]) == 101)
            #expect(try await upgradeStatus(port: port, path: "/", headers: [("Origin", "ws://127.0.0.1:\(port)")]) == 101)
            #expect(try await upgradeStatus(port: port, path: "/", headers: [("Origin", "https://evil.example")]) == 403)
            #expect(try await upgradeStatus(port: port, path: "/", headers: [("Origin", "wss://evil.example")]) == 403)
            #expect(try await upgradeStatus(port: port, path: "/", headers: [("Origin", "null")]) == 403)
            #expect(try await upgradeStatus(port: port, path: "/", headers: [("Origin", "http://localhost.evil.example")]) == 403)
        }
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.parse(["GROUNDMIST_DEV_ORIGINS": "not an origin"]) }
        let parsed = try ServerConfiguration.parse(["GROUNDMIST_DEV_ORIGINS": "HTTPS://Notes.Example:443, *"])
        #expect(parsed.hardening.developmentOrigins == ["https://notes.example", "*"])
    }

    @Test func wildcardOriginsNeverCarryCredentials() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let configuration = AuthenticationConfiguration(
                ownerDID: owner.did,
                secretKey: Secret(text: testSecret),
                publicURL: testPublicURL,
                allowedOrigins: ["*", "https://library.groundmist.xyz"]
            )
            let authority = try await SyncAuthority(
                configuration: configuration,
                dataDirectory: dataDirectory,
                resolver: InMemoryDIDResolver(documents: [owner.document]),
                logger: quietLogger
            )
            try await withAuthServer(authority: authority) { port in
                let evil = try await httpRequest(port: port, method: "OPTIONS", path: "/authenticate", headers: [("Origin", "https://evil.example")])
                #expect(evil.headers["access-control-allow-origin"] == "*")
                #expect(evil.headers["access-control-allow-credentials"] == nil)
                let listed = try await httpRequest(
                    port: port,
                    method: "OPTIONS",
                    path: "/authenticate",
                    headers: [("Origin", "https://library.groundmist.xyz")]
                )
                #expect(listed.headers["access-control-allow-origin"] == "https://library.groundmist.xyz")
                #expect(listed.headers["access-control-allow-credentials"] == "true")
            }
        }
    }

    // MARK: Finding 5: a pending login gets no registered root

    @Test func pendingLoginLearnsNothingAboutTheGroupsRoot() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory)
            let registered = AutomergeURL(documentId: DocumentId.random()).description
            let jwt = try owner.serviceAuthToken(aud: owner.serviceAudience)
            let owned = await authority.login(
                authorization: ["Bearer \(jwt)"],
                proofs: [],
                method: "POST",
                path: "/authenticate",
                body: Self.body(root: registered)
            )
            #expect(Self.json(owned)["rootDocUrl"] as? String == registered)
            // A stranger's pending login: null without a root of its own, its own root otherwise.
            let silent = try await Self.dpopLogin(authority, app: TestDPoPApp(), owner: owner, address: "203.0.113.3")
            #expect(silent.status == 200)
            #expect(Self.json(silent)["rootDocUrl"] is NSNull)
            let other = AutomergeURL(documentId: DocumentId.random()).description
            let echoed = try await Self.dpopLogin(authority, app: TestDPoPApp(), owner: owner, address: "203.0.113.4", rootDocUrl: other)
            #expect(Self.json(echoed)["rootDocUrl"] as? String == other)
            #expect(!silent.body.contains(registered) && !echoed.body.contains(registered))
        }
    }

    // MARK: Finding 6: connection deadlines and DID negative caching

    /// Opens a raw TCP connection, sends `chunks` spaced by `interval`, and returns how long the
    /// server took to close it.
    static func secondsUntilClosed(port: Int, chunks: [String] = [], interval: Duration = .milliseconds(300)) async throws -> Double {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        let start = ContinuousClock.now
        return try await channel.executeThenClose { inbound, outbound in
            await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for chunk in chunks {
                        try await outbound.write(ByteBuffer(string: chunk))
                        try await Task.sleep(for: interval)
                    }
                }
                // A reset instead of an orderly close is a close too.
                do { for try await _ in inbound {} } catch {}
                group.cancelAll()
            }
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
    }

    @Test func silentAndSlowHeaderConnectionsAreClosed() async throws {
        // The idle timeout is never below three ping intervals (live WebSockets answer pings).
        var configuration = ServerConfiguration.testing(pingInterval: .milliseconds(500))
        configuration.hardening = HardeningConfiguration(idleTimeout: .seconds(2), headerTimeout: .seconds(1))
        try await withLiveServer(configuration: configuration, endpoint: RecordingEndpoint()) { port in
            // Silent: closed by the header deadline.
            let silent = try await withTimeout(.seconds(90), "silent connection closed") { try await Self.secondsUntilClosed(port: port) }
            #expect(silent < 5)
            // Header bytes trickled in, never finished.
            let trickle = Array(repeating: "X-Slow: 1\r\n", count: 30)
            let slow = try await withTimeout(.seconds(90), "slow-header connection closed") {
                try await Self.secondsUntilClosed(port: port, chunks: ["GET / HTTP/1.1\r\n"] + trickle)
            }
            #expect(slow < 5)
            // A finished request, then silence on the kept-alive connection: closed by the idle timeout.
            let idle = try await withTimeout(.seconds(90), "idle keep-alive connection closed") {
                try await Self.secondsUntilClosed(port: port, chunks: ["GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"])
            }
            #expect(idle < 6)
            // A finished request, then a second one on the same connection whose headers trickle
            // in, never finished (each byte keeps the idle timeout away): closed by the header
            // deadline, which applies to every request, not only the first.
            let secondSlow = try await withTimeout(.seconds(90), "slow second request closed") {
                try await Self.secondsUntilClosed(port: port, chunks: ["GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "GET / HTTP/1.1\r\n"] + trickle)
            }
            #expect(secondSlow < 5)
            // A live WebSocket that answers pings is not idle.
            #expect(try await upgradeStatus(port: port, path: "/") == 101)
        }
        let parsed = try ServerConfiguration.parse(["GROUNDMIST_HTTP_IDLE_TIMEOUT": "2m", "GROUNDMIST_HTTP_HEADER_TIMEOUT": "5s"])
        #expect(parsed.hardening.idleTimeout == .seconds(120))
        #expect(parsed.hardening.headerTimeout == .seconds(5))
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.parse(["GROUNDMIST_HTTP_IDLE_TIMEOUT": "soon"]) }
    }

    /// An upstream that always fails, counting its calls.
    final class FailingResolver: DIDResolver {
        let calls = Mutex(0)
        func resolve(_ did: DID, forceRefresh: Bool) async throws(DIDResolutionError) -> DIDDocument {
            calls.withLock { $0 += 1 }
            throw .transport("connection refused")
        }
    }

    @Test func failedDIDLookupsAreCachedForABoundedTime() async throws {
        let owner = try TestOwner()
        let upstream = FailingResolver()
        let clock = ManualClock(Date().timeIntervalSince1970)
        let capture = LogCapture()
        let resolver = CachingDIDResolver(upstream: upstream, clock: clock, maximumEntries: 10, logger: capture.logger)
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory, resolver: resolver, clock: clock)
            // 50 forged tokens for the owner: one upstream fetch, one warning.
            for _ in 0..<50 {
                let forged = try owner.serviceAuthToken(aud: owner.serviceAudience, iat: clock.now(), signer: .init())
                let response = await authority.login(
                    authorization: ["Bearer \(forged)"],
                    proofs: [],
                    method: "POST",
                    path: "/authenticate",
                    body: Self.body
                )
                #expect(response.status == 503)
            }
        }
        #expect(upstream.calls.withLock { $0 } == 1)
        #expect(capture.all.filter { $0.message.contains("DID resolution failed") }.count == 1)
        // The failure expires: the next lookup asks again.
        clock.advance(by: resolver.failureLifetime + 1)
        _ = try? await resolver.resolve(owner.did, forceRefresh: false)
        #expect(upstream.calls.withLock { $0 } == 2)
        // Bounded: many distinct DIDs keep at most `maximumEntries` failures.
        for _ in 0..<50 { _ = try? await resolver.resolve(try TestOwner().did, forceRefresh: false) }
        #expect(await resolver.counts.failures <= 10)
    }
}

extension SyncAuthority {
    /// A login through `LoginService`, answered as `POST /authenticate` answers it, without HTTP.
    func login(
        authorization: [String],
        proofs: [String],
        method: String,
        path: String,
        body: [UInt8],
        userAgent: String? = nil,
        remoteAddress: String? = nil
    ) async -> JSONResponse {
        let result = await logins.login(
            authorization: authorization,
            proofs: proofs,
            method: method,
            path: path,
            body: body,
            userAgent: userAgent,
            remoteAddress: remoteAddress
        )
        return AuthenticateRoutes.response(for: result)
    }
}
