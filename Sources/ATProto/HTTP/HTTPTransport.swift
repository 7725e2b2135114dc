/// A minimal HTTP exchange, so resolvers and the XRPC client can run against fakes in tests.
public protocol HTTPTransport: Sendable {
    /// Sends one request without following redirects; the body is capped at `maximumResponseSize`.
    func send(_ request: HTTPRequestData, maximumResponseSize: Int) async throws(HTTPTransportError) -> HTTPResponseData
}

public struct HTTPRequestData: Sendable, Equatable {
    public var method: String
    public var url: String
    public var headers: [HTTPHeader]
    public var body: [UInt8]?

    public init(method: String, url: String, headers: [HTTPHeader] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

public struct HTTPHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

public struct HTTPResponseData: Sendable, Equatable {
    public var status: Int
    public var headers: [HTTPHeader]
    public var body: [UInt8]

    public init(status: Int, headers: [HTTPHeader] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

public enum HTTPTransportError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidURL(String)
    case responseTooLarge
    case timedOut
    case failed(String)

    public var description: String {
        switch self {
        case .invalidURL(let url): "invalid URL \(url)"
        case .responseTooLarge: "response exceeds the size limit"
        case .timedOut: "request timed out"
        case .failed(let reason): "request failed: \(reason)"
        }
    }
}
