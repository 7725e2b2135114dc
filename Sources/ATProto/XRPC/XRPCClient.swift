import Foundation

/// Calls XRPC methods on a PDS (or any XRPC service): JSON in, JSON out, typed errors.
package struct XRPCClient: Sendable {
    package let serviceURL: String
    private let transport: any HTTPTransport
    /// Value of the `Authorization` header, e.g. `Bearer <accessJwt>`; never logged.
    private let authorization: String?
    package let maximumResponseSize: Int

    package init(serviceURL: String, transport: any HTTPTransport, authorization: String? = nil, maximumResponseSize: Int = 1 << 20) {
        self.serviceURL = serviceURL.hasSuffix("/") ? String(serviceURL.dropLast()) : serviceURL
        self.transport = transport
        self.authorization = authorization
        self.maximumResponseSize = maximumResponseSize
    }

    /// A copy that sends `Authorization: Bearer <accessJwt>`.
    package func authorized(accessJwt: String) -> XRPCClient {
        XRPCClient(serviceURL: serviceURL, transport: transport, authorization: "Bearer " + accessJwt, maximumResponseSize: maximumResponseSize)
    }

    /// GET `/xrpc/<method>?<params>` and decode the JSON body.
    package func query<Output: Decodable>(
        _ method: String,
        parameters: [(String, String)] = [],
        as output: Output.Type
    ) async throws(XRPCError) -> Output {
        var components = URLComponents()
        components.queryItems = parameters.map { URLQueryItem(name: $0.0, value: $0.1) }
        // URLComponents leaves '+' alone, which some servers read as a space.
        let query = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        let url = serviceURL + "/xrpc/" + method + (parameters.isEmpty ? "" : "?" + query)
        return try await exchange(HTTPRequestData(method: "GET", url: url, headers: headers(json: false)), as: output)
    }

    /// POST `/xrpc/<method>` with a JSON body and decode the JSON response.
    package func procedure<Input: Encodable, Output: Decodable>(
        _ method: String,
        input: Input,
        as output: Output.Type
    ) async throws(XRPCError) -> Output {
        let body: Data
        do {
            body = try JSONEncoder().encode(input)
        } catch {
            throw .invalidRequest("input cannot be encoded as JSON")
        }
        let request = HTTPRequestData(method: "POST", url: serviceURL + "/xrpc/" + method, headers: headers(json: true), body: Array(body))
        return try await exchange(request, as: output)
    }

    private func headers(json: Bool) -> [HTTPHeader] {
        var headers = [HTTPHeader("Accept", "application/json")]
        if json { headers.append(HTTPHeader("Content-Type", "application/json")) }
        if let authorization { headers.append(HTTPHeader("Authorization", authorization)) }
        return headers
    }

    private func exchange<Output: Decodable>(_ request: HTTPRequestData, as output: Output.Type) async throws(XRPCError) -> Output {
        let response: HTTPResponseData
        do {
            response = try await transport.send(request, maximumResponseSize: maximumResponseSize)
        } catch {
            throw .transport(error)
        }
        guard (200..<300).contains(response.status) else {
            let body = JSONValue.object(from: response.body)
            throw .server(
                status: response.status,
                error: body?["error"]?.stringValue ?? "HTTP\(response.status)",
                message: body?["message"]?.stringValue
            )
        }
        do {
            return try JSONDecoder().decode(Output.self, from: Data(response.body))
        } catch {
            throw .invalidResponse("body does not match \(Output.self)")
        }
    }
}
