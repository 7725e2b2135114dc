import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import ATProto

/// Serves a few fixed routes on 127.0.0.1 to exercise the real async-http-client transport.
private final class RoutingHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let did = "did:web:localhost"
    static let document = #"{"id":"did:web:localhost","verificationMethod":[]}"#

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let status: HTTPResponseStatus
        var headers = HTTPHeaders()
        var body = ""
        switch head.uri {
        case "/doc":
            status = .ok
            body = Self.document
        case "/redirect":
            status = .found
            headers.add(name: "Location", value: "/doc")
        case "/big":
            status = .ok
            body = String(repeating: "x", count: 200_000)
        case "/slow":
            return  // never answers
        default:
            status = .notFound
        }
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

@Suite("Loopback HTTP transport")
struct LoopbackTransportTests {
    private func withServer(_ body: (Int) async throws -> Void) async throws {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(RoutingHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let port = try #require(channel.localAddress?.port)
        do {
            try await body(port)
        } catch {
            try? await channel.close()
            throw error
        }
        try await channel.close()
    }

    @Test func redirectsAreNotFollowedAndBodiesAreCapped() async throws {
        try await withServer { port in
            let transport = AsyncHTTPTransport(timeout: .milliseconds(500))
            let base = "http://127.0.0.1:\(port)"
            let document = try await transport.send(HTTPRequestData(method: "GET", url: base + "/doc"), maximumResponseSize: 1000)
            #expect(document.status == 200)
            #expect(String(decoding: document.body, as: UTF8.self) == RoutingHandler.document)
            let redirect = try await transport.send(HTTPRequestData(method: "GET", url: base + "/redirect"), maximumResponseSize: 1000)
            #expect(redirect.status == 302)
            await #expect(throws: HTTPTransportError.responseTooLarge) {
                try await transport.send(HTTPRequestData(method: "GET", url: base + "/big"), maximumResponseSize: 100_000)
            }
            await #expect(throws: HTTPTransportError.timedOut) {
                try await transport.send(HTTPRequestData(method: "GET", url: base + "/slow"), maximumResponseSize: 1000)
            }
            await #expect(throws: HTTPTransportError.invalidURL("ftp://x")) {
                try await transport.send(HTTPRequestData(method: "GET", url: "ftp://x"), maximumResponseSize: 1000)
            }
            try await transport.shutdown()
        }
    }

    @Test func plcResolutionOverLoopback() async throws {
        try await withServer { port in
            let transport = AsyncHTTPTransport(timeout: .seconds(2))
            // A fake PLC directory whose path for this DID is not found (404), and a redirecting one.
            let resolver = NetworkDIDResolver(transport: transport, plcURL: "http://127.0.0.1:\(port)")
            let did = try DID("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")
            await #expect(throws: DIDResolutionError.notFound(did)) { try await resolver.resolve(did, forceRefresh: false) }
            try await transport.shutdown()
        }
    }
}
