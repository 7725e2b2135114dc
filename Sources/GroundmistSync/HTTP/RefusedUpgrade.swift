import NIOCore
import NIOHTTP1

/// Answers a refused WebSocket upgrade with 401 before any upgrade.
///
/// hummingbird-websocket answers every refused upgrade with an empty 400, so the 401 is written here,
/// straight into the HTTP pipeline, and the write side is then shut: the library's own 400 can no
/// longer reach the client. Why the token was refused is only logged.
enum RefusedUpgrade {
    static let body = #"{"error":"Unauthorized","message":"a valid, approved sync token is required"}"#

    static func respond(on channel: any Channel) async {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        headers.add(name: "WWW-Authenticate", value: "Bearer")
        headers.add(name: "Connection", value: "close")
        let head = HTTPResponseHead(version: .http1_1, status: .unauthorized, headers: headers)
        do {
            channel.write(HTTPServerResponsePart.head(head), promise: nil)
            channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil)
            try await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
            try await channel.close(mode: .output).get()
        } catch {
            // The client is already gone; nothing to tell it.
        }
    }
}
