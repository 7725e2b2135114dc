import Hummingbird
import Logging

/// A fake PLC directory on an ephemeral loopback port: serves `GET /<did>` from `documents`
/// (DID → DID document JSON), 404 for anything else. `body` gets the directory's base URL.
package func withFakePLC<T: Sendable>(
    documents: [String: String],
    _ body: @escaping @Sendable (_ url: String) async throws -> T
) async throws -> T {
    let router = Router()
    router.get("/:did") { _, context -> Response in
        guard let did = context.parameters.get("did"), let json = documents[did] else { return Response(status: .notFound) }
        return Response(status: .ok, headers: [.contentType: "application/did+ld+json"], body: .init(byteBuffer: .init(string: json)))
    }
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    var quiet = Logger(label: "fake-plc")
    quiet.logLevel = .critical
    let app = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
        logger: quiet
    )
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            defer { continuation.finish() }
            try await app.run()
            return nil
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TimedOut(what: "fake PLC start") }
        let result = try await body("http://127.0.0.1:\(port)")
        group.cancelAll()
        return result
    }
}
