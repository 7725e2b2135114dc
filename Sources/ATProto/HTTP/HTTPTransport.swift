/// A minimal HTTP exchange, so resolvers and the XRPC client can run against fakes in tests.
package protocol HTTPTransport: Sendable {
    /// Sends one request without following redirects; the body is capped at `maximumResponseSize`.
    func send(_ request: HTTPRequestData, maximumResponseSize: Int) async throws(HTTPTransportError) -> HTTPResponseData
}

package struct HTTPRequestData: Sendable, Equatable {
    package var method: String
    package var url: String
    package var headers: [HTTPHeader]
    package var body: [UInt8]?

    package init(method: String, url: String, headers: [HTTPHeader] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

package struct HTTPHeader: Sendable, Equatable {
    package var name: String
    package var value: String

    package init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

package struct HTTPResponseData: Sendable, Equatable {
    package var status: Int
    package var headers: [HTTPHeader]
    package var body: [UInt8]

    package init(status: Int, headers: [HTTPHeader] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

package enum HTTPTransportError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidURL(String)
    case responseTooLarge
    case timedOut
    case failed(String)

    package var description: String {
        switch self {
        case .invalidURL(let url): "invalid URL \(url)"
        case .responseTooLarge: "response exceeds the size limit"
        case .timedOut: "request timed out"
        case .failed(let reason): "request failed: \(reason)"
        }
    }
}
