import ATProto
import Logging

extension LoginService {
    /// A verified ATProto service-auth token (`Authorization: Bearer`): approved at once.
    func serviceAuthLogin(authorization: [String], request: LoginRequestBody) async -> LoginOutcome {
        do {
            _ = try await serviceAuth.verify(authorization: authorization, lexiconMethod: AuthenticationConfiguration.authenticateMethod)
        } catch {
            failures.record(AuthFailureReason(error.name))
            if error.httpStatus == 503 {
                logger.error("cannot resolve the owner's DID document", metadata: ["reason": "\(LogSafe(error.message, limit: 400))"])
                return .refused(
                    LoginRefusal(
                        .identityUnavailable(error: error.error),
                        "the account's identity could not be resolved; try again shortly",
                        challenge: error.wwwAuthenticate
                    )
                )
            }
            return .refused(LoginRefusal(.serviceAuth(error: error.error, status: error.httpStatus), error.message, challenge: error.wwwAuthenticate))
        }
        do {
            let session = try await sessions.create(
                group: request.group.string,
                method: .serviceAuth,
                status: .approved,
                lifetime: configuration.tokenLifetime
            )
            logger.info("login", metadata: ["session": "\(session.id)", "group": "\(session.group)", "method": "service-auth"])
            return try await approved(session: session, request: request)
        } catch {
            return serverError(error)
        }
    }
}
