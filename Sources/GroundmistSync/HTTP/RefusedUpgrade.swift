import HTTPTypes
import NIOCore

/// Answers a refused WebSocket upgrade before any upgrade: 401 without a valid token, 403 for a
/// web page the development server does not serve.
///
/// hummingbird-websocket answers every refused upgrade with an empty 400, so the answer is written
/// here, straight into the HTTP pipeline, and the write side is then shut: the library's own 400 can
/// no longer reach the client. Why the upgrade was refused is only logged (by the authorizer).
enum RefusedUpgrade {
    static let unauthorized = JSONResponse.error(
        .unauthorized,
        "Unauthorized",
        "a valid, approved sync token is required",
        headers: [.wwwAuthenticate: "Bearer"]
    )
    static let forbiddenOrigin = JSONResponse.error(
        .forbidden,
        "Forbidden",
        "this origin may not open a WebSocket to the development server"
    )

    static func response(for refusal: UpgradeRefusal) -> JSONResponse {
        switch refusal {
        case .unauthorized: unauthorized
        case .forbiddenOrigin: forbiddenOrigin
        }
    }

    static func respond(_ refusal: UpgradeRefusal, on channel: any Channel) async {
        await response(for: refusal).write(to: channel)
    }
}
