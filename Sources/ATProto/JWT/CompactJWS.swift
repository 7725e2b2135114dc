/// A compact JWS split strictly into its parts, before any policy or signature check.
///
/// Written by hand rather than with jwt-kit because jwt-kit's base64url helpers accept malformed
/// input silently and its header parser is internal.
///
/// A parsed token is still a credential: printing or dumping it shows only its header's `alg`
/// and the part sizes, never the payload or signature.
package struct CompactJWS: Sendable, CustomStringConvertible, CustomReflectable {
    package let header: [String: JSONValue]
    /// The decoded payload bytes (JSON for JWTs; parsed by the caller).
    package let payload: [UInt8]
    package let signature: [UInt8]
    /// ASCII bytes of `base64url(header) "." base64url(payload)`: what the signature covers.
    package let signingInput: [UInt8]

    package enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case tooLong
        case wrongSegmentCount
        case emptySegment
        case invalidBase64URL
        case headerNotJSONObject

        package var description: String {
            switch self {
            case .tooLong: "token is too long"
            case .wrongSegmentCount: "token must have exactly three dot-separated segments"
            case .emptySegment: "token has an empty segment"
            case .invalidBase64URL: "token segment is not unpadded base64url"
            case .headerNotJSONObject: "token header is not a JSON object"
            }
        }
    }

    package var description: String {
        "CompactJWS(alg: \(LogSafe(header["alg"]?.stringValue)), payload: \(payload.count) bytes, signature: \(signature.count) bytes)"
    }
    package var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    /// Default cap on token length (8 KiB).
    package static let defaultMaximumLength = 8192

    package init(_ token: String, maximumLength: Int = CompactJWS.defaultMaximumLength) throws(ParseError) {
        let bytes = Array(token.utf8)
        guard bytes.count <= maximumLength else { throw .tooLong }
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .wrongSegmentCount }
        guard parts.allSatisfy({ !$0.isEmpty }) else { throw .emptySegment }
        guard let headerBytes = Base64URL.decode(String(decoding: parts[0], as: UTF8.self)),
            let payload = Base64URL.decode(String(decoding: parts[1], as: UTF8.self)),
            let signature = Base64URL.decode(String(decoding: parts[2], as: UTF8.self))
        else { throw .invalidBase64URL }
        guard let header = JSONValue.object(from: headerBytes) else { throw .headerNotJSONObject }
        self.header = header
        self.payload = payload
        self.signature = signature
        self.signingInput = Array(parts[0]) + [UInt8(ascii: ".")] + Array(parts[1])
    }
}
