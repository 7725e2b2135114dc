import AutomergeRepo
import HTTPTypes
import Hummingbird
import NIOCore

/// `POST /authenticate` (and its XRPC alias) and the service's DID document: the HTTP face of
/// `LoginService`.
struct AuthenticateRoutes: Sendable {
    static let paths: Set<String> = ["/authenticate", "/xrpc/" + AuthenticationConfiguration.authenticateMethod]
    /// body-parser's default limit in the original server.
    static let maximumBodySize = 100 * 1024
    static let dpopField = HTTPField.Name("DPoP")
    static let dpopNonceField = HTTPField.Name("DPoP-Nonce")
    static let forwardedForField = HTTPField.Name("X-Forwarded-For")
    /// How long a client waits before retrying when the owner's identity could not be resolved.
    static let identityRetryAfter = 30

    let logins: LoginService
    let configuration: AuthenticationConfiguration

    func register(on router: Router<GroundmistRequestContext>) {
        for path in Self.paths {
            router.post(RouterPath(path)) { request, context in try await authenticate(request, context: context) }
        }
        router.get("/.well-known/did.json") { _, _ in didDocument().response }
    }

    func authenticate(_ request: Request, context: GroundmistRequestContext) async throws -> Response {
        var request = request
        let body: [UInt8]
        do {
            body = Array(buffer: try await request.collectBody(upTo: Self.maximumBodySize))
        } catch {
            return JSONResponse.error(.badRequest, "InvalidRequest", "the body must be JSON of at most 100 kB").response
        }
        let result = await logins.login(
            authorization: request.headers[values: .authorization],
            proofs: Self.dpopField.map { request.headers[values: $0] } ?? [],
            method: request.method.rawValue,
            path: request.uri.path,
            body: body,
            userAgent: request.headers[.userAgent],
            remoteAddress: Self.clientAddress(
                peer: context.remoteAddress,
                forwardedFor: Self.forwardedForField.map { request.headers[values: $0] } ?? [],
                trustedProxies: configuration.trustedProxies
            )
        )
        return Self.response(for: result).response
    }

    /// The answer the original server gave: `{"result":"OK","token","rootDocUrl"}` on success (the
    /// same for a pending login), else `{"error","message"}` with the refusal's status and challenge.
    static func response(for result: LoginResult) -> JSONResponse {
        var response: JSONResponse
        switch result.outcome {
        case .approved(let grant), .pending(let grant):
            let root = grant.rootDocUrl.map { JSONResponse.string($0.description) } ?? "null"
            response = JSONResponse(
                status: .ok,
                headers: [:],
                body: "{\"result\":\"OK\",\"token\":\(JSONResponse.string(grant.token)),\"rootDocUrl\":\(root)}"
            )
        case .refused(let refusal):
            let (status, error) = statusAndError(refusal.reason)
            var headers: HTTPFields = [:]
            if let challenge = refusal.challenge { headers.append(HTTPField(name: .wwwAuthenticate, value: challenge)) }
            switch refusal.reason {
            case .rateLimited(let seconds): headers.append(HTTPField(name: .retryAfter, value: "\(seconds)"))
            case .identityUnavailable: headers.append(HTTPField(name: .retryAfter, value: "\(identityRetryAfter)"))
            default: break
            }
            response = .error(status, error, refusal.message, headers: headers)
        }
        if let nonce = result.dpopNonce, let field = dpopNonceField {
            response.headers.append(HTTPField(name: field, value: nonce))
        }
        return response
    }

    /// The status and XRPC error name of a refusal; the names are what the original server and
    /// today's apps use (`LegacyAuthDisabled` included).
    static func statusAndError(_ reason: LoginRefusal.Reason) -> (HTTPResponse.Status, String) {
        switch reason {
        case .invalidRequest: (.badRequest, "InvalidRequest")
        case .credentialsMissing: (.unauthorized, "AuthMissing")
        case .dpopLoginDisabled: (.unauthorized, "LegacyAuthDisabled")
        case .dpopNonceRequired: (.unauthorized, "use_dpop_nonce")
        case .invalidDPoPProof: (.unauthorized, "InvalidDPoPProof")
        case .invalidAccessToken: (.unauthorized, "InvalidToken")
        case .rateLimited: (.tooManyRequests, "RateLimited")
        case .serviceAuth(let error, let status): (HTTPResponse.Status(code: status), error)
        case .identityUnavailable(let error): (.serviceUnavailable, error)
        case .serverError: (.internalServerError, "InternalServerError")
        }
    }

    /// The client's address: the peer's, or — when the peer is a trusted reverse proxy
    /// (`GROUNDMIST_TRUSTED_PROXIES`, loopback by default) — the nearest `X-Forwarded-For` entry that
    /// is not itself a trusted proxy (earlier entries are the client's own claims).
    static func clientAddress(
        peer: SocketAddress?,
        forwardedFor: [String],
        trustedProxies: TrustedProxies = .loopback
    ) -> String? {
        guard let ip = peer?.ipAddress else { return nil }
        return trustedProxies.clientAddress(peer: ip, forwardedFor: forwardedFor)
    }

    /// The did:web document for `PUBLIC_URL`, so PDS proxying finds the `#groundmist_sync` endpoint.
    func didDocument() -> JSONResponse {
        let body = """
            {"@context":["https://www.w3.org/ns/did/v1"],"id":\(JSONResponse.string(configuration.serviceDID)),\
            "service":[{"id":"#\(AuthenticationConfiguration.serviceID)","type":"GroundmistSyncServer",\
            "serviceEndpoint":\(JSONResponse.string(configuration.publicURL))}]}
            """
        return JSONResponse(status: .ok, headers: [:], body: body, contentType: "application/json")
    }
}
