import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1

/// The one way the server writes JSON: `{"error", "message"}` errors (the XRPC error shape) and
/// the few bodies whose key order must match the original server, written by hand. A response is
/// built once and sent either through Hummingbird (`response`) or straight into the HTTP pipeline
/// of a refused WebSocket upgrade (`write(to:)`).
///
/// A body may hold a sync token, so printing or dumping a response shows only its status and size.
struct JSONResponse: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    static let contentType = "application/json; charset=utf-8"

    var status: HTTPResponse.Status
    /// Headers besides `Content-Type`, in order.
    var headers: HTTPFields
    /// JSON text.
    var body: String
    var contentType: String = Self.contentType

    var description: String { "JSONResponse(status: \(status.code), body: \(body.utf8.count) bytes)" }
    var customMirror: Mirror { Mirror(self, children: ["status": status.code], displayStyle: .struct) }

    /// `{"error": …, "message": …}`.
    static func error(_ status: HTTPResponse.Status, _ error: String, _ message: String, headers: HTTPFields = [:]) -> JSONResponse {
        JSONResponse(status: status, headers: headers, body: "{\"error\":\(string(error)),\"message\":\(string(message))}")
    }

    /// `value` as a JSON string literal, quotes included.
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

    /// The value of the first header named `name` (case-insensitive), for tests and logs.
    subscript(header name: String) -> String? {
        HTTPField.Name(name).flatMap { headers[$0] }
    }

    /// For a Hummingbird route.
    var response: Response {
        var fields: HTTPFields = [.contentType: contentType]
        fields.append(contentsOf: headers)
        return Response(status: status, headers: fields, body: .init(byteBuffer: .init(string: body)))
    }

    /// Writes the response straight into an HTTP/1 pipeline and shuts the write side, so nothing
    /// else (hummingbird-websocket's own empty 400 for a refused upgrade) can follow it.
    func write(to channel: any Channel) async {
        var head = HTTPHeaders()
        head.add(name: "Content-Type", value: contentType)
        head.add(name: "Content-Length", value: "\(body.utf8.count)")
        for field in headers { head.add(name: field.name.rawName, value: field.value) }
        head.add(name: "Connection", value: "close")
        let status = HTTPResponseStatus(statusCode: status.code)
        do {
            channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: head)), promise: nil)
            channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil)
            try await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
            try await channel.close(mode: .output).get()
        } catch {
            // The client is already gone; nothing to tell it.
        }
    }
}
