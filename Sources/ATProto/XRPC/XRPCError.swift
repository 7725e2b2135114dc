/// A failed XRPC call: either the server's `{"error", "message"}` body or a transport problem.
package enum XRPCError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The server answered with a non-2xx status; `error` is the XRPC error name (e.g. `AuthFactorTokenRequired`).
    case server(status: Int, error: String, message: String?)
    case transport(HTTPTransportError)
    case invalidResponse(String)
    case invalidRequest(String)

    package var description: String {
        switch self {
        case .server(let status, let error, let message): "XRPC \(status) \(error)" + (message.map { ": \($0)" } ?? "")
        case .transport(let error): error.description
        case .invalidResponse(let reason): "unexpected XRPC response: \(reason)"
        case .invalidRequest(let reason): "invalid XRPC request: \(reason)"
        }
    }

    /// The XRPC error name, when the server sent one.
    package var errorName: String? {
        if case .server(_, let error, _) = self { error } else { nil }
    }
}
