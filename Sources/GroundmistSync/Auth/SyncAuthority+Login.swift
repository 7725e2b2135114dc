import ATProto
import AutomergeRepo
import Foundation
import Logging

/// The answer to `POST /authenticate`, independent of the HTTP framework. Its body holds the sync
/// token, so printing or dumping it shows only the status.
public struct LoginResponse: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    public var status: Int
    public var headers: [(String, String)]
    /// JSON text.
    public var body: String

    public static func == (lhs: LoginResponse, rhs: LoginResponse) -> Bool {
        lhs.status == rhs.status && lhs.body == rhs.body && lhs.headers.map { $0.0 + ":" + $0.1 } == rhs.headers.map { $0.0 + ":" + $0.1 }
    }

    public var description: String { "LoginResponse(status: \(status), body: \(body.utf8.count) bytes)" }
    public var customMirror: Mirror { Mirror(self, children: ["status": status], displayStyle: .struct) }

    /// `{"error": …, "message": …}`, the XRPC error shape (the apps only need a JSON body).
    static func error(_ status: Int, _ error: String, _ message: String, headers: [(String, String)] = []) -> LoginResponse {
        LoginResponse(status: status, headers: headers, body: "{\"error\":\(JSONText.string(error)),\"message\":\(JSONText.string(message))}")
    }
}

/// The body of `/authenticate`: `{lexiconAuthorityDomain, rootDocUrl}`.
struct LoginRequestBody {
    let group: NamespacePrefix
    let rootDocUrl: AutomergeURL?

    init(_ bytes: [UInt8]) throws(LoginBodyError) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
            throw LoginBodyError("the body must be a JSON object {\"lexiconAuthorityDomain\", \"rootDocUrl\"}")
        }
        guard let domain = object["lexiconAuthorityDomain"] as? String else {
            throw LoginBodyError("lexiconAuthorityDomain is required: the app's namespace, e.g. xyz.groundmist.library")
        }
        do {
            group = try NamespacePrefix(domain)
        } catch {
            throw LoginBodyError("lexiconAuthorityDomain is not a namespace prefix: \(error.reason)")
        }
        switch object["rootDocUrl"] {
        case .none, is NSNull:
            rootDocUrl = nil
        case let text as String where text.isEmpty:
            rootDocUrl = nil
        case let text as String:
            guard let url = try? AutomergeURL(text) else { throw LoginBodyError("rootDocUrl must be an automerge: URL or null") }
            rootDocUrl = url
        default:
            throw LoginBodyError("rootDocUrl must be an automerge: URL or null")
        }
    }
}

/// What the server knows of a login's client besides its credentials (unverified).
struct LoginClient {
    var userAgent: String?
    var remoteAddress: String?
}

struct LoginBodyError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

extension SyncAuthority {
    /// `/authenticate`: verifies the credentials, creates or reuses a session, registers the root
    /// document and returns `{"result":"OK","token","rootDocUrl"}` as the original server did.
    ///
    /// - Parameters:
    ///   - authorization: every `Authorization` header value.
    ///   - proofs: every `DPoP` header value.
    ///   - path: the request target, appended to `PUBLIC_URL` for the DPoP `htu` check.
    ///   - userAgent: the request's `User-Agent`, recorded (sanitised) on pending sessions.
    ///   - remoteAddress: where the request came from, recorded (sanitised) on pending sessions.
    public func login(
        authorization: [String],
        proofs: [String],
        method: String,
        path: String,
        body: [UInt8],
        userAgent: String? = nil,
        remoteAddress: String? = nil
    ) async -> LoginResponse {
        guard authorization.count <= 1 else {
            recordFailure(.invalidRequest)
            return .error(400, "InvalidRequest", "more than one Authorization header")
        }
        guard let header = authorization.first, !header.isEmpty else {
            recordFailure(.missingCredentials)
            return .error(401, "AuthMissing", "Authorization header is required", headers: [("WWW-Authenticate", "Bearer, DPoP algs=\"ES256\"")])
        }
        let scheme = header.prefix { $0 != " " }.lowercased()
        // Every response to a DPoP request carries a fresh nonce (docs/auth.md §4.4), errors included.
        let nonceHeader: (String, String)? = scheme == "dpop" ? ("DPoP-Nonce", nonces.next()) : nil
        let request: LoginRequestBody
        do {
            request = try LoginRequestBody(body)
        } catch {
            recordFailure(.invalidBody)
            return .error(400, "InvalidRequest", error.message, headers: nonceHeader.map { [$0] } ?? [])
        }
        switch (scheme, nonceHeader) {
        case ("bearer", _):
            return await serviceAuthLogin(authorization: authorization, request: request)
        case (_, .some(let nonceHeader)):
            let client = LoginClient(userAgent: userAgent, remoteAddress: remoteAddress)
            return await legacyLogin(
                authorization: authorization,
                proofs: proofs,
                method: method,
                path: path,
                request: request,
                client: client,
                nonceHeader: nonceHeader
            )
        default:
            recordFailure(.invalidRequest)
            return .error(400, "InvalidRequest", "Authorization must use the Bearer or DPoP scheme")
        }
    }

    private func serviceAuthLogin(authorization: [String], request: LoginRequestBody) async -> LoginResponse {
        do {
            _ = try await serviceAuth.verify(authorization: authorization, lexiconMethod: AuthenticationConfiguration.authenticateMethod)
        } catch {
            recordFailure(AuthFailureReason(error.name))
            var headers: [(String, String)] = []
            if let challenge = error.wwwAuthenticate { headers.append(("WWW-Authenticate", challenge)) }
            if error.httpStatus == 503 {
                logger.error("cannot resolve the owner's DID document", metadata: ["reason": "\(LogSafe(error.message, limit: 400))"])
                headers.append(("Retry-After", "30"))
                return .error(503, error.error, "the account's identity could not be resolved; try again shortly", headers: headers)
            }
            return .error(error.httpStatus, error.error, error.message, headers: headers)
        }
        do {
            let session = try await sessions.create(
                group: request.group.string,
                method: .serviceAuth,
                status: .approved,
                lifetime: configuration.tokenLifetime
            )
            logger.info("login", metadata: ["session": "\(session.id)", "group": "\(session.group)", "method": "service-auth"])
            return try await success(session: session, request: request, headers: [])
        } catch {
            return internalError(error)
        }
    }

    private func legacyLogin(
        authorization: [String],
        proofs: [String],
        method: String,
        path: String,
        request: LoginRequestBody,
        client: LoginClient,
        nonceHeader: (String, String)
    ) async -> LoginResponse {
        guard configuration.legacyAuth != .off else {
            recordFailure(.legacyAuthDisabled)
            logger.notice("DPoP login refused: GROUNDMIST_LEGACY_AUTH=off")
            return .error(
                401,
                "LegacyAuthDisabled",
                "this server accepts only ATProto service-auth tokens (Authorization: Bearer)",
                headers: [("WWW-Authenticate", "Bearer"), nonceHeader]
            )
        }
        let result: CompatibilityAuthenticator.Result
        do {
            result = try await compatibility.authenticate(authorization: authorization, proofHeaders: proofs, method: method, path: path)
        } catch {
            return legacyFailure(error, nonceHeader: nonceHeader)
        }
        // Unverified and attacker-controlled: sanitised before it reaches the log or the file.
        let clientId = Session.sanitized(result.token?.clientID ?? result.proof.claimedIssuer)
        let tokenExpiry = Date(timeIntervalSince1970: (clock.now() + configuration.tokenLifetime).rounded(.down))
        do {
            var session: Session
            if let existing = await sessions.reusable(keyThumbprint: result.proof.thumbprint, group: request.group.string) {
                session = try await sessions.extend(
                    existing.id,
                    until: tokenExpiry,
                    rootDocUrl: request.rootDocUrl?.description,
                    userAgent: client.userAgent,
                    remoteAddress: client.remoteAddress
                )
                if configuration.legacyAuth == .trust && session.status == .pending {
                    session = try await sessions.setStatus(session.id, .approved)
                    session = try await sessions.extend(session.id, until: tokenExpiry)
                }
            } else {
                let approved = configuration.legacyAuth == .trust
                if !approved, let wait = await pendingLimiter.admit(address: client.remoteAddress) {
                    recordFailure(.rateLimited)
                    logger.notice(
                        "DPoP login refused: too many new logins",
                        metadata: ["address": "\(LogSafe(client.remoteAddress))", "retryAfter": "\(Int(wait.rounded(.up)))"]
                    )
                    return .error(
                        429,
                        "RateLimited",
                        "too many new logins; try again later",
                        headers: [("Retry-After", "\(max(1, Int(wait.rounded(.up))))"), nonceHeader]
                    )
                }
                let created = try await sessions.createReportingEvictions(
                    group: request.group.string,
                    method: .dpop,
                    status: approved ? .approved : .pending,
                    lifetime: configuration.tokenLifetime,
                    clientId: clientId,
                    keyThumbprint: result.proof.thumbprint,
                    rootDocUrl: approved ? nil : request.rootDocUrl?.description,
                    userAgent: client.userAgent,
                    remoteAddress: client.remoteAddress
                )
                session = created.session
                for evicted in created.evicted {
                    logger.notice(
                        "pending login evicted to make room for a newer one",
                        metadata: [
                            "session": "\(evicted.id)", "address": "\(LogSafe(evicted.remoteAddress))",
                            "key": "\(LogSafe(evicted.keyThumbprint.map { String($0.prefix(8)) }))",
                            "userAgent": "\(LogSafe(evicted.userAgent))",
                        ]
                    )
                }
            }
            // Address and key prefix as `sessions list` shows them, to tell the owner's device from a lookalike.
            let metadata: Logger.Metadata = [
                "session": "\(session.id)", "group": "\(session.group)", "method": "dpop", "client": "\(LogSafe(clientId ?? "unknown"))",
                "address": "\(LogSafe(client.remoteAddress))", "key": "\(result.proof.thumbprint.prefix(8))",
            ]
            if configuration.legacyAuth == .trust {
                logger.warning("DPoP login approved without verification (GROUNDMIST_LEGACY_AUTH=trust)", metadata: metadata)
            } else if session.status == .pending {
                logger.notice("login waiting for approval: run `groundmist-sync sessions approve \(session.id)`", metadata: metadata)
            } else {
                logger.info("login", metadata: metadata)
            }
            guard session.status == .approved else {
                return try await pendingSuccess(session: session, request: request, tokenExpiry: tokenExpiry, headers: [nonceHeader])
            }
            return try await success(session: session, request: request, headers: [nonceHeader])
        } catch {
            return internalError(error)
        }
    }

    /// A login the owner has not approved yet changes nothing but its own session: no root
    /// registration, no group directory, no repo. The submitted root is kept on the session and
    /// registered when an approved connection of the session arrives (`authorizeConnection`).
    ///
    /// It learns nothing either: never the group's registered root (which would also tell a
    /// stranger which groups exist), only its own submitted value back, or null. Echoing is what
    /// keeps today's apps unharmed: the Library stores and the Editor logs in to whatever root
    /// differs from their own (docs/auth.md §11.1), so any other answer would break them.
    private func pendingSuccess(
        session: Session,
        request: LoginRequestBody,
        tokenExpiry: Date,
        headers: [(String, String)]
    ) async throws
        -> LoginResponse
    {
        let token = try await tokens.mint(session: session, expires: tokenExpiry)
        return Self.successResponse(token: token, root: request.rootDocUrl, headers: headers)
    }

    /// Maps a DPoP failure to its response. Never `error="invalid_token"`: the atproto browser client
    /// answers that by refreshing and then deleting the user's login (docs/auth.md §11.1).
    private func legacyFailure(_ error: DPoPError, nonceHeader: (String, String)) -> LoginResponse {
        switch error.code {
        case .useDPoPNonce:
            // A normal step of the handshake, not a failure worth counting.
            return .error(401, "use_dpop_nonce", error.message, headers: [("WWW-Authenticate", error.wwwAuthenticate ?? "DPoP"), nonceHeader])
        case .invalidRequest:
            recordFailure(.invalidRequest)
            return .error(400, "InvalidRequest", error.message, headers: [nonceHeader])
        case .missingCredentials:
            recordFailure(.missingCredentials)
            return .error(401, "AuthMissing", error.message, headers: [("WWW-Authenticate", "Bearer, DPoP algs=\"ES256\""), nonceHeader])
        case .invalidDPoPProof:
            recordFailure(.invalidDPoPProof)
            logger.info("DPoP login refused", metadata: ["reason": "\(LogSafe(error.message, limit: 400))"])
            return .error(401, "InvalidDPoPProof", error.message, headers: [("WWW-Authenticate", error.wwwAuthenticate ?? "DPoP"), nonceHeader])
        case .invalidToken:
            recordFailure(.invalidAccessToken)
            logger.info("DPoP login refused", metadata: ["reason": "\(LogSafe(error.message, limit: 400))"])
            return .error(401, "InvalidToken", error.message, headers: [("WWW-Authenticate", "DPoP algs=\"ES256\""), nonceHeader])
        }
    }

    private func success(session: Session, request: LoginRequestBody, headers: [(String, String)]) async throws -> LoginResponse {
        var root = await roots.root(of: request.group.string)
        if let submitted = request.rootDocUrl {
            root = try await roots.register(submitted, for: request.group.string)
        }
        // Opening the repo also asks joining peers for the group's root document.
        _ = try await repo(for: request.group)
        let token = try await tokens.mint(session: session)
        return Self.successResponse(token: token, root: root, headers: headers)
    }

    private static func successResponse(token: String, root: AutomergeURL?, headers: [(String, String)]) -> LoginResponse {
        let rootText = root.map { JSONText.string($0.description) } ?? "null"
        return LoginResponse(
            status: 200,
            headers: headers,
            body: "{\"result\":\"OK\",\"token\":\(JSONText.string(token)),\"rootDocUrl\":\(rootText)}"
        )
    }

    private func internalError(_ error: any Error) -> LoginResponse {
        logger.error("login failed on the server", metadata: ["error": "\(error)"])
        return .error(500, "InternalServerError", "the server could not complete the login")
    }
}

/// Minimal JSON text building, so the response keys keep the original's order.
enum JSONText {
    static func string(_ value: String) -> String {
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case let c where c.value < 0x20: result += String(format: "\\u%04x", c.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
