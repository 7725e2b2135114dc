import Foundation
import Hummingbird
import Logging

/// A loopback PDS + PLC directory + handle resolver: answers the calls `publish` makes and records
/// every request so tests can check paths, headers and bodies.
actor FakePDS {
    struct Recorded: Sendable {
        let method: String
        let path: String
        let query: String
        let authorization: String?
        /// The request body as sent (JSON for procedures).
        let body: String

        /// The body parsed as a JSON object.
        var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        }
    }

    static let did = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
    static let handle = "alice.test"
    static let appPassword = "abcd-efgh-ijkl-mnop"
    static let accessToken = "access-token-for-alice"

    private(set) var requests: [Recorded] = []
    var port = 0

    func setPort(_ port: Int) { self.port = port }

    func respond(_ request: Recorded) -> (HTTPResponse.Status, String) {
        requests.append(request)
        switch (request.method, request.path) {
        case ("POST", "/xrpc/com.atproto.server.createSession"):
            let input = request.json
            guard input?["identifier"] as? String == Self.handle || input?["identifier"] as? String == Self.did,
                input?["password"] as? String == Self.appPassword
            else {
                return (.unauthorized, #"{"error":"AuthenticationRequired","message":"Invalid identifier or password"}"#)
            }
            return (
                .ok,
                #"{"did":"\#(Self.did)","handle":"\#(Self.handle)","accessJwt":"\#(Self.accessToken)","refreshJwt":"refresh"}"#
            )
        case ("POST", "/xrpc/com.atproto.repo.putRecord"):
            guard request.authorization == "Bearer \(Self.accessToken)" else {
                return (.unauthorized, #"{"error":"AuthenticationRequired","message":"Bad token"}"#)
            }
            return (.ok, #"{"uri":"at://\#(Self.did)/xyz.groundmist.sync/\#(Self.did)","cid":"bafyreifakecid"}"#)
        case ("GET", "/\(Self.did)"):
            return (
                .ok,
                ##"{"id":"\##(Self.did)","alsoKnownAs":["at://\##(Self.handle)"],"verificationMethod":[],"service":[{"id":"#atproto_pds","type":"AtprotoPersonalDataServer","serviceEndpoint":"http://127.0.0.1:\##(port)"}]}"##
            )
        case ("GET", "/xrpc/com.atproto.identity.resolveHandle"):
            guard request.query == "handle=\(Self.handle)" else {
                return (.badRequest, #"{"error":"InvalidRequest","message":"Unable to resolve handle"}"#)
            }
            return (.ok, #"{"did":"\#(Self.did)"}"#)
        default:
            return (.notFound, #"{"error":"NotFound"}"#)
        }
    }
}

/// Answers every request from the fake (so paths such as `/did:plc:…` need no route syntax).
struct FakePDSMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let fake: FakePDS

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let data = try await request.body.collect(upTo: 1 << 20)
        let recorded = FakePDS.Recorded(
            method: request.method.rawValue,
            path: request.uri.path,
            query: request.uri.query ?? "",
            authorization: request.headers[.authorization],
            body: String(decoding: data.readableBytesView, as: UTF8.self)
        )
        let (status, json) = await fake.respond(recorded)
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: json))
        )
    }
}

/// Runs the fake on an ephemeral loopback port for the duration of `body`.
func withFakePDS<T: Sendable>(_ body: @escaping @Sendable (FakePDS, Int) async throws -> T) async throws -> T {
    let fake = FakePDS()
    let router = Router()
    router.add(middleware: FakePDSMiddleware(fake: fake))
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let app = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
        logger: {
            var logger = Logger(label: "fake-pds")
            logger.logLevel = .critical
            return logger
        }()
    )
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            defer { continuation.finish() }
            try await app.run()
            return nil
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        await fake.setPort(port)
        let result = try await body(fake, port)
        group.cancelAll()
        return result
    }
}
