@testable import ATProto

/// An in-memory `HTTPTransport`: answers from a handler and records every request.
actor FakeTransport: HTTPTransport {
    private let handler: @Sendable (HTTPRequestData) -> Result<HTTPResponseData, HTTPTransportError>
    private(set) var requests: [HTTPRequestData] = []

    init(_ handler: @escaping @Sendable (HTTPRequestData) -> Result<HTTPResponseData, HTTPTransportError>) {
        self.handler = handler
    }

    func send(_ request: HTTPRequestData, maximumResponseSize: Int) async throws(HTTPTransportError) -> HTTPResponseData {
        requests.append(request)
        let response = try handler(request).get()
        if response.body.count > maximumResponseSize { throw .responseTooLarge }
        return response
    }
}

/// A resolver that counts upstream calls and can be switched between answers.
actor CountingResolver: DIDResolver {
    var answer: Result<DIDDocument, DIDResolutionError>
    private(set) var calls = 0

    init(_ answer: Result<DIDDocument, DIDResolutionError>) {
        self.answer = answer
    }

    func set(_ answer: Result<DIDDocument, DIDResolutionError>) {
        self.answer = answer
    }

    func resolve(_ did: DID, forceRefresh: Bool) async throws(DIDResolutionError) -> DIDDocument {
        calls += 1
        return try answer.get()
    }
}
