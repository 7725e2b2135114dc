import AsyncHTTPClient
package import NIOCore
import NIOHTTP1

/// `HTTPTransport` over async-http-client: per-request timeout, redirects refused, body size capped.
package final class AsyncHTTPTransport: HTTPTransport {
    private let client: HTTPClient
    package let timeout: TimeAmount

    /// - Parameter timeout: covers connecting, sending and reading the whole body (3 s like the reference resolver).
    package init(timeout: TimeAmount = .seconds(3)) {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: timeout, read: timeout)
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        self.timeout = timeout
    }

    /// Must be called before the transport is released.
    package func shutdown() async throws {
        try await client.shutdown()
    }

    package func send(_ request: HTTPRequestData, maximumResponseSize: Int) async throws(HTTPTransportError) -> HTTPResponseData {
        guard request.url.hasPrefix("https://") || request.url.hasPrefix("http://") else { throw .invalidURL(request.url) }
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for header in request.headers {
            outgoing.headers.add(name: header.name, value: header.value)
        }
        if let body = request.body {
            outgoing.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await client.execute(outgoing, timeout: timeout)
            let body = try await response.body.collect(upTo: maximumResponseSize)
            return HTTPResponseData(
                status: Int(response.status.code),
                headers: response.headers.map { HTTPHeader($0.name, $0.value) },
                body: Array(buffer: body)
            )
        } catch is NIOTooManyBytesError {
            throw .responseTooLarge
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw .timedOut
        } catch {
            throw .failed(String(describing: error))
        }
    }
}
