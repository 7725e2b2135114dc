import HTTPTypes
import Hummingbird
import NIOCore

/// `POST /authenticate` (and its XRPC alias) and the service's DID document.
struct AuthenticateRoutes: Sendable {
    static let paths: Set<String> = ["/authenticate", "/xrpc/" + AuthenticationConfiguration.authenticateMethod]
    /// body-parser's default limit in the original server.
    static let maximumBodySize = 100 * 1024
    static let dpopField = HTTPField.Name("DPoP")
    static let forwardedForField = HTTPField.Name("X-Forwarded-For")

    let authority: SyncAuthority

    func register(on router: Router<GroundmistRequestContext>) {
        for path in Self.paths {
            router.post(RouterPath(path)) { request, context in try await authenticate(request, context: context) }
        }
        router.get("/.well-known/did.json") { _, _ in didDocument() }
    }

    func authenticate(_ request: Request, context: GroundmistRequestContext) async throws -> Response {
        var request = request
        let body: [UInt8]
        do {
            body = Array(buffer: try await request.collectBody(upTo: Self.maximumBodySize))
        } catch {
            return JSONResponse.error(.badRequest, "InvalidRequest", "the body must be JSON of at most 100 kB")
        }
        let result = await authority.login(
            authorization: request.headers[values: .authorization],
            proofs: Self.dpopField.map { request.headers[values: $0] } ?? [],
            method: request.method.rawValue,
            path: request.uri.path,
            body: body,
            userAgent: request.headers[.userAgent],
            remoteAddress: Self.clientAddress(
                peer: context.remoteAddress,
                forwardedFor: Self.forwardedForField.map { request.headers[values: $0] } ?? [],
                trustedProxies: authority.configuration.trustedProxies
            )
        )
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        for (name, value) in result.headers {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        return Response(status: .init(code: result.status), headers: headers, body: .init(byteBuffer: .init(string: result.body)))
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
    func didDocument() -> Response {
        let configuration = authority.configuration
        let did = configuration.serviceDID
        let body = """
            {"@context":["https://www.w3.org/ns/did/v1"],"id":\(JSONText.string(did)),\
            "service":[{"id":"#\(AuthenticationConfiguration.serviceID)","type":"GroundmistSyncServer",\
            "serviceEndpoint":\(JSONText.string(configuration.publicURL))}]}
            """
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: .init(string: body)))
    }
}
