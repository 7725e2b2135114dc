import Foundation

extension DID {
    /// Checks the restrictions atproto adds for the methods it supports.
    ///
    /// - `did:plc`: exactly 24 characters of base32 (`a–z`, `2–7`).
    /// - `did:web`: a hostname (handle rules), no path; a port (`%3A<port>`) only on `localhost`.
    /// Other methods are refused, since atproto resolves only these two.
    package func validateATProtoMethod() throws(SyntaxError) {
        switch method {
        case "plc":
            let id = methodSpecificID.utf8
            guard id.count == 24,
                id.allSatisfy({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "2")...UInt8(ascii: "7")).contains($0) })
            else { throw SyntaxError(.did, "did:plc identifier must be 24 characters of a-z and 2-7") }
        case "web":
            _ = try webHost()
        default:
            throw SyntaxError(.did, "method '\(method)' is not supported by atproto (only plc and web)")
        }
    }

    /// For `did:web`: the host and optional port (only `localhost` may carry one).
    package func webHost() throws(SyntaxError) -> (host: String, port: Int?) {
        guard method == "web" else { throw SyntaxError(.did, "not a did:web") }
        let id = String(methodSpecificID)
        guard !id.contains(":") else { throw SyntaxError(.did, "path-based did:web is not supported") }
        var host = id
        var port: Int?
        if let range = id.range(of: "%3A", options: .caseInsensitive) {
            host = String(id[..<range.lowerBound])
            guard let number = Int(id[range.upperBound...]), (1...65535).contains(number),
                id[range.upperBound...].allSatisfy(\.isASCII)
            else { throw SyntaxError(.did, "did:web port is not a valid number") }
            guard host == "localhost" else { throw SyntaxError(.did, "did:web may only carry a port for localhost") }
            port = number
        }
        guard !host.contains("%") else { throw SyntaxError(.did, "did:web host contains percent-encoding") }
        if host != "localhost" {
            let handle: Handle
            do {
                handle = try Handle(host)
            } catch {
                throw SyntaxError(.did, "did:web host is not a valid hostname (\(error.reason))")
            }
            guard handle.isResolvable else { throw SyntaxError(.did, "did:web host uses a special-use top-level domain") }
        }
        return (host.lowercased(), port)
    }
}
