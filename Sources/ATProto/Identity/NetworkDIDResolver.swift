/// Resolves `did:plc` through a PLC directory and `did:web` through `/.well-known/did.json`.
///
/// No caching here; wrap it in `CachingDIDResolver`.
package struct NetworkDIDResolver: DIDResolver {
    private let transport: any HTTPTransport
    /// PLC directory base URL, without a trailing slash.
    package let plcURL: String
    /// Resolve `did:web:localhost%3A<port>` over plain http (development only).
    package let allowLocalhost: Bool
    package let maximumDocumentSize: Int

    package init(
        transport: any HTTPTransport,
        plcURL: String = "https://plc.directory",
        allowLocalhost: Bool = false,
        maximumDocumentSize: Int = DIDDocument.maximumSize
    ) {
        self.transport = transport
        self.plcURL = plcURL.hasSuffix("/") ? String(plcURL.dropLast()) : plcURL
        self.allowLocalhost = allowLocalhost
        self.maximumDocumentSize = maximumDocumentSize
    }

    /// The URL a DID's document is fetched from.
    package func documentURL(for did: DID) throws(DIDResolutionError) -> String {
        do {
            try did.validateATProtoMethod()
        } catch {
            if did.method != "plc" && did.method != "web" { throw .unsupportedMethod(String(did.method)) }
            throw .invalidDID(error.reason)
        }
        if did.method == "plc" {
            return plcURL + "/" + did.string
        }
        let host: (host: String, port: Int?)
        do {
            host = try did.webHost()
        } catch {
            throw .invalidDID(error.reason)
        }
        if host.host == "localhost" {
            guard allowLocalhost else { throw .invalidDID("did:web:localhost is only resolvable in development") }
            return "http://localhost" + (host.port.map { ":\($0)" } ?? "") + "/.well-known/did.json"
        }
        return "https://\(host.host)/.well-known/did.json"
    }

    package func resolve(_ did: DID, forceRefresh: Bool) async throws(DIDResolutionError) -> DIDDocument {
        let url = try documentURL(for: did)
        let response: HTTPResponseData
        do {
            response = try await transport.send(
                HTTPRequestData(method: "GET", url: url, headers: [HTTPHeader("Accept", "application/did+ld+json,application/json")]),
                maximumResponseSize: maximumDocumentSize
            )
        } catch .responseTooLarge {
            throw .responseTooLarge
        } catch {
            throw .transport(error.description)
        }
        if response.status == 404 || response.status == 410 { throw .notFound(did) }
        guard (200..<300).contains(response.status) else { throw .httpStatus(response.status) }
        do {
            return try DIDDocument(json: response.body, expectedDID: did)
        } catch {
            throw .invalidDocument(error)
        }
    }
}
