import ATProto
import AutomergeRepo
import Foundation
import Logging

/// `POST /authenticate` without HTTP: verifies the credentials — a service-auth token (`Bearer`) or
/// the DPoP login of today's apps (`DPoP`, docs/auth.md §5) — creates or reuses a session,
/// registers the root document and mints a sync token. `AuthenticateRoutes` maps the outcome to
/// the response the original server sent.
package struct LoginService: Sendable, CustomStringConvertible {
    let configuration: AuthenticationConfiguration
    let sessions: SessionStore
    let tokens: SyncTokens
    let groups: GroupRouter
    let serviceAuth: ServiceAuthVerifier
    /// Verifies DPoP logins (ATProto calls it the compatibility authenticator).
    let dpop: CompatibilityAuthenticator
    let nonces: DPoPNonces
    /// New pending logins per address and in all.
    let pendingLimiter: PendingLoginLimiter
    let clock: any AuthClock
    let failures: AuthFailureCounter
    let logger: Logger

    /// - Parameter resolver: resolves the owner's DID document (a caching network resolver in production).
    init(
        configuration: AuthenticationConfiguration,
        sessions: SessionStore,
        tokens: SyncTokens,
        groups: GroupRouter,
        resolver: any DIDResolver,
        clock: any AuthClock,
        failures: AuthFailureCounter,
        logger: Logger
    ) throws {
        self.configuration = configuration
        self.sessions = sessions
        self.tokens = tokens
        self.groups = groups
        self.clock = clock
        self.failures = failures
        self.logger = logger
        var serviceConfiguration = ServiceAuthConfiguration(
            ownerDID: configuration.ownerDID,
            serviceDID: try DID(configuration.serviceDID),
            serviceID: AuthenticationConfiguration.serviceID
        )
        // The replay cache is not persisted: refuse tokens minted before this process started.
        serviceConfiguration.notIssuedBefore = clock.now() - 5
        serviceAuth = ServiceAuthVerifier(configuration: serviceConfiguration, resolver: resolver, clock: clock, logger: logger)
        nonces = DPoPNonces(clock: clock)
        pendingLimiter = PendingLoginLimiter(
            perAddress: configuration.loginLimits.newPendingPerAddress,
            total: configuration.loginLimits.newPendingTotal,
            clock: clock
        )
        let verifier = DPoPVerifier(configuration: DPoPConfiguration(publicURL: configuration.publicURL), nonces: nonces, clock: clock)
        // Opaque `tok-…` tokens carry no claims at all; tolerable only when the owner approves each session.
        dpop = CompatibilityAuthenticator(
            ownerDID: configuration.ownerDID,
            dpop: verifier,
            clock: clock,
            acceptOpaqueTokens: configuration.dpopLogin == .approve
        )
    }

    /// Never prints the configuration (which holds the secret key).
    package var description: String { "LoginService(owner: \(configuration.ownerDID))" }

    /// Decides one login.
    ///
    /// - Parameters:
    ///   - authorization: every `Authorization` header value.
    ///   - proofs: every `DPoP` header value.
    ///   - path: the request target, appended to `PUBLIC_URL` for the DPoP `htu` check.
    ///   - userAgent: the request's `User-Agent`, recorded (sanitised) on pending sessions.
    ///   - remoteAddress: where the request came from, recorded (sanitised) on pending sessions.
    package func login(
        authorization: [String],
        proofs: [String],
        method: String,
        path: String,
        body: [UInt8],
        userAgent: String? = nil,
        remoteAddress: String? = nil
    ) async -> LoginResult {
        guard authorization.count <= 1 else {
            return LoginResult(refuse(.invalidRequest, LoginRefusal(.invalidRequest, "more than one Authorization header")))
        }
        guard let header = authorization.first, !header.isEmpty else {
            let refusal = LoginRefusal(.credentialsMissing, "Authorization header is required", challenge: LoginRefusal.anyChallenge)
            return LoginResult(refuse(.missingCredentials, refusal))
        }
        let scheme = AuthorizationScheme(header: header)
        // Every response to a DPoP request carries a fresh nonce (docs/auth.md §4.4), errors included.
        let nonce = scheme == .dpop ? nonces.next() : nil
        let request: LoginRequestBody
        do {
            request = try LoginRequestBody(body)
        } catch {
            return LoginResult(refuse(.invalidBody, LoginRefusal(.invalidRequest, error.message)), dpopNonce: nonce)
        }
        switch scheme {
        case .bearer:
            return LoginResult(await serviceAuthLogin(authorization: authorization, request: request))
        case .dpop:
            let client = LoginClient(userAgent: userAgent, remoteAddress: remoteAddress)
            let outcome = await dpopLogin(authorization: authorization, proofs: proofs, method: method, path: path, request: request, client: client)
            return LoginResult(outcome, dpopNonce: nonce)
        case nil:
            return LoginResult(refuse(.invalidRequest, LoginRefusal(.invalidRequest, "Authorization must use the Bearer or DPoP scheme")))
        }
    }

    /// Counts the refusal and returns it as an outcome.
    func refuse(_ reason: AuthFailureReason, _ refusal: LoginRefusal) -> LoginOutcome {
        failures.record(reason)
        return .refused(refusal)
    }

    /// An approved login: registers the submitted root (or reports the group's), opens the group's
    /// repo and mints the token.
    func approved(session: Session, request: LoginRequestBody) async throws -> LoginOutcome {
        var root = await groups.roots.root(of: request.group.string)
        if let submitted = request.rootDocUrl {
            root = try await groups.roots.register(submitted, for: request.group.string)
        }
        // Opening the repo also asks joining peers for the group's root document.
        _ = try await groups.repo(for: request.group)
        let token = try await tokens.mint(session: session)
        return .approved(LoginGrant(token: token, rootDocUrl: root))
    }

    /// A login the owner has not approved yet changes nothing but its own session: no root
    /// registration, no group directory, no repo. The submitted root is kept on the session and
    /// registered when an approved connection of the session arrives (`SyncTokenAuthorizer`).
    ///
    /// It learns nothing either: never the group's registered root (which would also tell a
    /// stranger which groups exist), only its own submitted value back, or null. Echoing is what
    /// keeps today's apps unharmed: the Library stores and the Editor logs in to whatever root
    /// differs from their own (docs/auth.md §11.1), so any other answer would break them.
    func pending(session: Session, request: LoginRequestBody, tokenExpiry: Date) async throws -> LoginOutcome {
        let token = try await tokens.mint(session: session, expires: tokenExpiry)
        return .pending(LoginGrant(token: token, rootDocUrl: request.rootDocUrl))
    }

    func serverError(_ error: any Error) -> LoginOutcome {
        logger.error("login failed on the server", metadata: ["error": "\(error)"])
        return .refused(LoginRefusal(.serverError, "the server could not complete the login"))
    }
}
