import ATProto
import AutomergeRepo
import Foundation
import Logging

extension LoginService {
    /// The DPoP login of today's apps (`Authorization: DPoP <PDS access token>`). The access token
    /// cannot be verified by a third party, so the session waits for the owner's approval unless
    /// `GROUNDMIST_LEGACY_AUTH=trust` (docs/auth.md §5).
    func dpopLogin(
        authorization: [String],
        proofs: [String],
        method: String,
        path: String,
        request: LoginRequestBody,
        client: LoginClient
    ) async -> LoginOutcome {
        guard configuration.dpopLogin != .off else {
            logger.notice("DPoP login refused: GROUNDMIST_LEGACY_AUTH=off")
            let refusal = LoginRefusal(
                .dpopLoginDisabled,
                "this server accepts only ATProto service-auth tokens (Authorization: Bearer)",
                challenge: "Bearer"
            )
            return refuse(.dpopLoginDisabled, refusal)
        }
        let result: CompatibilityAuthenticator.Result
        do {
            result = try await dpop.authenticate(authorization: authorization, proofHeaders: proofs, method: method, path: path)
        } catch {
            return dpopRefusal(error)
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
                if configuration.dpopLogin == .trust && session.status == .pending {
                    session = try await sessions.setStatus(session.id, .approved)
                    session = try await sessions.extend(session.id, until: tokenExpiry)
                }
            } else {
                let approved = configuration.dpopLogin == .trust
                if !approved, let wait = await pendingLimiter.admit(address: client.remoteAddress) {
                    logger.notice(
                        "DPoP login refused: too many new logins",
                        metadata: ["address": "\(LogSafe(client.remoteAddress))", "retryAfter": "\(Int(wait.rounded(.up)))"]
                    )
                    let refusal = LoginRefusal(.rateLimited(retryAfter: max(1, Int(wait.rounded(.up)))), "too many new logins; try again later")
                    return refuse(.rateLimited, refusal)
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
            if configuration.dpopLogin == .trust {
                logger.warning("DPoP login approved without verification (GROUNDMIST_LEGACY_AUTH=trust)", metadata: metadata)
            } else if session.status == .pending {
                logger.notice("login waiting for approval: run `groundmist-sync sessions approve \(session.id)`", metadata: metadata)
            } else {
                logger.info("login", metadata: metadata)
            }
            guard session.status == .approved else {
                return try await pending(session: session, request: request, tokenExpiry: tokenExpiry)
            }
            return try await approved(session: session, request: request)
        } catch {
            return serverError(error)
        }
    }

    /// A refused DPoP login. Never `error="invalid_token"`: the atproto browser client answers that
    /// by refreshing and then deleting the user's login (docs/auth.md §11.1).
    private func dpopRefusal(_ error: DPoPError) -> LoginOutcome {
        switch error.code {
        case .useDPoPNonce:
            // A normal step of the handshake, not a failure worth counting.
            return .refused(LoginRefusal(.dpopNonceRequired, error.message, challenge: error.wwwAuthenticate ?? "DPoP"))
        case .invalidRequest:
            return refuse(.invalidRequest, LoginRefusal(.invalidRequest, error.message))
        case .missingCredentials:
            return refuse(.missingCredentials, LoginRefusal(.credentialsMissing, error.message, challenge: LoginRefusal.anyChallenge))
        case .invalidDPoPProof:
            logger.info("DPoP login refused", metadata: ["reason": "\(LogSafe(error.message, limit: 400))"])
            return refuse(.invalidDPoPProof, LoginRefusal(.invalidDPoPProof, error.message, challenge: error.wwwAuthenticate ?? "DPoP"))
        case .invalidToken:
            logger.info("DPoP login refused", metadata: ["reason": "\(LogSafe(error.message, limit: 400))"])
            return refuse(.invalidAccessToken, LoginRefusal(.invalidAccessToken, error.message, challenge: "DPoP algs=\"ES256\""))
        }
    }
}
