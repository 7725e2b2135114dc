import Hummingbird

/// CORS as the original server sent it (docs/auth.md §11.2) on every response, but with an
/// allow-list instead of reflecting any origin (`*` answers `*`, without credentials), and exposing `WWW-Authenticate` and `DPoP-Nonce`
/// so the browser apps can follow the DPoP nonce handshake (docs/auth.md §11.1).
struct CORSMiddleware<Context: RequestContext>: RouterMiddleware {
    let configuration: AuthenticationConfiguration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        if request.method == .options, AuthenticateRoutes.paths.contains(request.uri.path) {
            // Express answered preflights to /authenticate with 200, `Allow: POST` and body "POST".
            response = Response(
                status: .ok,
                headers: [.allow: "POST", .contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: .init(string: "POST"))
            )
        } else {
            do {
                response = try await next(request, context)
            } catch let error as any HTTPResponseError {
                response = try error.response(from: request, context: context)
            }
        }
        if let origin = request.headers[.origin] {
            if configuration.allowedOrigins.contains(origin.lowercased()) {
                response.headers[.accessControlAllowOrigin] = origin
                response.headers[.accessControlAllowCredentials] = "true"
            } else if configuration.allowedOrigins.contains("*") {
                // Any page may call the API, but never with the browser's credentials: `*` and
                // credentials together would let every site act as the user.
                response.headers[.accessControlAllowOrigin] = "*"
            }
        }
        response.headers[.vary] = "Origin"
        response.headers[.accessControlAllowMethods] = "POST, OPTIONS"
        response.headers[.accessControlAllowHeaders] = "Content-Type, Authorization, DPoP"
        response.headers[.accessControlExposeHeaders] = "WWW-Authenticate, DPoP-Nonce"
        response.headers[.accessControlMaxAge] = "86400"
        return response
    }
}

/// JSON error bodies `{"error", "message"}`.
enum JSONResponse {
    static func error(_ status: HTTPResponse.Status, _ error: String, _ message: String, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        let body = "{\"error\":\(JSONText.string(error)),\"message\":\(JSONText.string(message))}"
        return Response(status: status, headers: fields, body: .init(byteBuffer: .init(string: body)))
    }
}
