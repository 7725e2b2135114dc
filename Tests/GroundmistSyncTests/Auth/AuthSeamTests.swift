import ATProto
import AutomergeRepo
import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import TestSupport
import Testing

@testable import GroundmistSync

/// The seams between the modes, logins and HTTP (issue 11): the typed login outcome and its HTTP
/// answers, the authorization scheme, the one JSON writer, and the connection authorizers.
@Suite struct AuthSeamTests {
    // MARK: Authorization scheme

    @Test func theSchemeIsReadCaseInsensitivelyUpToTheFirstSpace() {
        #expect(AuthorizationScheme(header: "Bearer abc") == .bearer)
        #expect(AuthorizationScheme(header: "bearer abc") == .bearer)
        #expect(AuthorizationScheme(header: "DPoP abc") == .dpop)
        #expect(AuthorizationScheme(header: "dpop") == .dpop)
        #expect(AuthorizationScheme(header: "Basic abc") == nil)
        #expect(AuthorizationScheme(header: "Bearerabc") == nil)
        #expect(AuthorizationScheme(header: " Bearer abc") == nil)
        #expect(AuthorizationScheme(header: "") == nil)
    }

    // MARK: Login outcomes as HTTP

    @Test func grantsAnswerTheOriginalSuccessBodyWhetherApprovedOrPending() throws {
        let root = try AutomergeURL("automerge:" + DocumentId.random().description)
        for outcome in [LoginOutcome.approved(LoginGrant(token: "t\"1", rootDocUrl: root)), .pending(LoginGrant(token: "t\"1", rootDocUrl: root))] {
            let response = AuthenticateRoutes.response(for: LoginResult(outcome))
            #expect(response.status == .ok)
            #expect(response.body == #"{"result":"OK","token":"t\"1","rootDocUrl":"\#(root)"}"#)
            #expect(response.headers.isEmpty)
        }
        let noRoot = AuthenticateRoutes.response(for: LoginResult(.approved(LoginGrant(token: "t", rootDocUrl: nil)), dpopNonce: "n1"))
        #expect(noRoot.body == #"{"result":"OK","token":"t","rootDocUrl":null}"#)
        #expect(noRoot[header: "DPoP-Nonce"] == "n1")
    }

    @Test func everyRefusalHasItsStatusErrorNameAndHeaders() throws {
        let cases: [(LoginRefusal, status: Int, error: String, retryAfter: String?)] = [
            (LoginRefusal(.invalidRequest, "m"), 400, "InvalidRequest", nil),
            (LoginRefusal(.credentialsMissing, "m", challenge: LoginRefusal.anyChallenge), 401, "AuthMissing", nil),
            (LoginRefusal(.dpopLoginDisabled, "m", challenge: "Bearer"), 401, "LegacyAuthDisabled", nil),
            (LoginRefusal(.dpopNonceRequired, "m", challenge: "DPoP error=\"use_dpop_nonce\""), 401, "use_dpop_nonce", nil),
            (LoginRefusal(.invalidDPoPProof, "m", challenge: "DPoP"), 401, "InvalidDPoPProof", nil),
            (LoginRefusal(.invalidAccessToken, "m", challenge: "DPoP algs=\"ES256\""), 401, "InvalidToken", nil),
            (LoginRefusal(.rateLimited(retryAfter: 17), "m"), 429, "RateLimited", "17"),
            (
                LoginRefusal(.serviceAuth(error: "BadJwtAudience", status: 403), "m", challenge: "Bearer error=\"invalid_token\""), 403,
                "BadJwtAudience", nil
            ),
            (LoginRefusal(.identityUnavailable(error: "DIDResolutionFailed"), "m"), 503, "DIDResolutionFailed", "30"),
            (LoginRefusal(.serverError, "m"), 500, "InternalServerError", nil),
        ]
        for (refusal, status, error, retryAfter) in cases {
            let response = AuthenticateRoutes.response(for: LoginResult(.refused(refusal), dpopNonce: "nonce-1"))
            #expect(response.status.code == status, "\(refusal.reason)")
            let body = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: String])
            #expect(body == ["error": error, "message": "m"], "\(refusal.reason)")
            #expect(response[header: "WWW-Authenticate"] == refusal.challenge, "\(refusal.reason)")
            #expect(response[header: "Retry-After"] == retryAfter, "\(refusal.reason)")
            // The nonce comes last, after the challenge, as the original server sent it.
            #expect(response.headers.last?.name.rawName == "DPoP-Nonce" && response.headers.last?.value == "nonce-1")
            #expect(response.response.headers[.contentType] == JSONResponse.contentType)
        }
    }

    @Test func aLoginWithoutCredentialsIsRefusedWithAChallengeAndNoNonce() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory)
            let body = Array(#"{"lexiconAuthorityDomain":"xyz.groundmist.library"}"#.utf8)
            let missing = await authority.logins.login(authorization: [], proofs: [], method: "POST", path: "/authenticate", body: body)
            #expect(
                missing
                    == LoginResult(
                        .refused(LoginRefusal(.credentialsMissing, "Authorization header is required", challenge: LoginRefusal.anyChallenge))
                    )
            )
            let basic = await authority.logins.login(authorization: ["Basic x"], proofs: [], method: "POST", path: "/authenticate", body: body)
            #expect(basic.dpopNonce == nil)
            guard case .refused(let refusal) = basic.outcome else {
                Issue.record("a Basic login was not refused: \(basic.outcome)")
                return
            }
            #expect(refusal.reason == .invalidRequest)
            // A DPoP request gets a nonce even when its body is refused.
            let dpop = await authority.logins.login(authorization: ["DPoP x"], proofs: [], method: "POST", path: "/authenticate", body: [])
            #expect(dpop.dpopNonce?.isEmpty == false)
            guard case .refused(let bodyRefusal) = dpop.outcome else {
                Issue.record("an empty body was not refused: \(dpop.outcome)")
                return
            }
            #expect(bodyRefusal.reason == .invalidRequest)
            #expect(await authority.sessions.all().isEmpty)
        }
    }

    // MARK: One JSON writer

    @Test func jsonStringsEscapeQuotesBackslashesAndControlCharacters() {
        #expect(JSONResponse.string("plain") == #""plain""#)
        #expect(JSONResponse.string("a\"b\\c") == #""a\"b\\c""#)
        #expect(JSONResponse.string("l1\nl2\r\t") == #""l1\nl2\r\t""#)
        #expect(JSONResponse.string("\u{01}\u{1f}é") == #""\u0001\u001fé""#)
        for text in ["\u{00}x", "quote\"", "ünï\u{7f}", "\u{2028}"] {
            let decoded = try? JSONSerialization.jsonObject(with: Data(JSONResponse.string(text).utf8), options: .fragmentsAllowed) as? String
            #expect(decoded == text)
        }
    }

    @Test func refusedUpgradesAnswerTheOriginalBodies() {
        #expect(RefusedUpgrade.response(for: .unauthorized).status == .unauthorized)
        #expect(RefusedUpgrade.response(for: .unauthorized).body == #"{"error":"Unauthorized","message":"a valid, approved sync token is required"}"#)
        #expect(RefusedUpgrade.response(for: .unauthorized)[header: "WWW-Authenticate"] == "Bearer")
        #expect(RefusedUpgrade.response(for: .forbiddenOrigin).status == .forbidden)
        #expect(
            RefusedUpgrade.response(for: .forbiddenOrigin).body
                == #"{"error":"Forbidden","message":"this origin may not open a WebSocket to the development server"}"#
        )
    }

    // MARK: Connection authorizers

    @Test func theDevelopmentAuthorizerAcceptsLocalAppsOnly() async {
        let authorizer = DevelopmentAuthorizer(endpoint: UnavailableEndpoint(), hardening: HardeningConfiguration(), logger: quietLogger)
        for origins in [[], ["http://localhost:5173"], ["ws://127.0.0.1:3030"]] {
            guard case .accept(let connection) = await authorizer.authorize(UpgradeRequest(target: "/", origins: origins)) else {
                Issue.record("refused \(origins)")
                continue
            }
            #expect(connection.endpoint is UnavailableEndpoint)
            #expect(connection.logMetadata.isEmpty)
        }
        for origins in [["https://evil.example"], ["http://localhost", "http://localhost"]] {
            guard case .refuse(let refusal) = await authorizer.authorize(UpgradeRequest(target: "/", origins: origins)) else {
                Issue.record("accepted \(origins)")
                continue
            }
            #expect(refusal == .forbiddenOrigin)
        }
    }

    @Test func theSyncTokenAuthorizerRegistersAcceptedConnectionsUntilTheyEnd() async throws {
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory)
            guard case .refuse(.unauthorized) = await authority.connections.authorize(UpgradeRequest(target: "/")) else {
                Issue.record("an upgrade without a token was not refused")
                return
            }
            let session = try await authority.sessions.create(group: "xyz.groundmist.library", method: .cli, status: .approved, lifetime: 3600)
            let token = try await authority.tokens.mint(session: session)
            let decision = await authority.connections.authorize(UpgradeRequest(target: "/", authorization: ["Bearer \(token)"]))
            guard case .accept(let connection) = decision else {
                Issue.record("a valid token was refused")
                return
            }
            #expect(connection.endpoint is Repo)
            #expect(connection.logMetadata["session"] == "\(session.id)")
            #expect(await authority.liveConnections.count(of: session.id) == 0)
            let unregister = await connection.register {}
            #expect(await authority.liveConnections.count(of: session.id) == 1)
            await unregister()
            #expect(await authority.liveConnections.count(of: session.id) == 0)
        }
    }

    // MARK: Server modes

    @Test func onlyTheDevelopmentModeRefusesNonLoopbackHosts() async throws {
        let development = ServerMode.development(endpoint: UnavailableEndpoint(), hardening: HardeningConfiguration(), logger: quietLogger)
        #expect(throws: GroundmistServerError.nonLoopbackWithoutAuthentication(host: "0.0.0.0")) {
            try GroundmistServer(configuration: ServerConfiguration(host: "0.0.0.0"), mode: development)
        }
        #expect(development.startupWarnings == [GroundmistServer.developmentModeBanner])
        // The message points at the authenticated mode instead of claiming there is none.
        let message = GroundmistServerError.nonLoopbackWithoutAuthentication(host: "0.0.0.0").description
        #expect(message.contains("ATPROTO_DID") && message.contains("PUBLIC_URL") && !message.contains("this build"))
        let owner = try TestOwner()
        try await withTemporaryDirectory { dataDirectory in
            let trusting = try await makeAuthority(owner: owner, dataDirectory: dataDirectory, dpopLogin: .trust)
            let mode = ServerMode.authenticated(trusting)
            _ = try GroundmistServer(configuration: ServerConfiguration(host: "0.0.0.0"), mode: mode)
            #expect(mode.startupWarnings.count == 1 && mode.startupWarnings[0].contains("GROUNDMIST_LEGACY_AUTH=trust"))
            #expect(mode.services.count == 1)
        }
    }
}
