import ATProto
import AutomergeRepo
import Crypto
import Foundation
import GroundmistSync
import Logging
import Metrics
import NIOCore
import NIOPosix
import TestSupport

let testPublicURL = "https://sync.example.com"
let testSecret = "0123456789abcdef0123456789abcdef-test-secret"

func makeAuthority(
    owner: TestOwner,
    dataDirectory: String,
    dpopLogin: DPoPLoginMode = .approve,
    secret: String = testSecret,
    resolver: (any DIDResolver)? = nil,
    tokenLifetime: Double = AuthenticationConfiguration.defaultTokenLifetime,
    loginLimits: LoginLimits = .default,
    clock: any AuthClock = SystemClock(),
    metrics: (any MetricsFactory)? = nil,
    logger: Logger = quietLogger
) async throws -> SyncAuthority {
    let configuration = AuthenticationConfiguration(
        ownerDID: owner.did,
        secretKey: Secret(text: secret),
        publicURL: testPublicURL,
        dpopLogin: dpopLogin,
        tokenLifetime: tokenLifetime,
        loginLimits: loginLimits
    )
    return try await SyncAuthority(
        configuration: configuration,
        dataDirectory: dataDirectory,
        resolver: resolver ?? InMemoryDIDResolver(documents: [owner.document]),
        clock: clock,
        metrics: metrics,
        logger: logger
    )
}

/// Runs an authenticated server on an ephemeral loopback port for the duration of `body`.
func withAuthServer<T: Sendable>(
    authority: SyncAuthority,
    _ body: @escaping @Sendable (_ port: Int) async throws -> T
) async throws -> T {
    let server = try GroundmistServer(configuration: .testing(), authority: authority, logger: quietLogger)
    return try await withRunningServer(server, timeout: .seconds(40), "authenticated server test", body)
}

/// One HTTP/1.1 request over loopback; reads the response by its Content-Length, so it also works
/// when the server keeps the connection open.
func httpRequest(
    port: Int,
    method: String = "GET",
    path: String,
    headers: [(String, String)] = [],
    body: String? = nil
) async throws -> HTTPResult {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    return try await channel.executeThenClose { inbound, outbound in
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Length: \(body.utf8.count)\r\n" }
        head += "\r\n" + (body ?? "")
        try await outbound.write(ByteBuffer(string: head))
        var raw = ""
        for try await chunk in inbound {
            raw += String(buffer: chunk)
            if let parsed = parseHTTPResponse(raw) { return parsed }
        }
        guard let parsed = parseHTTPResponse(raw, complete: true) else { throw TimedOut(what: "an HTTP response") }
        return parsed
    }
}

private func parseHTTPResponse(_ raw: String, complete: Bool = false) -> HTTPResult? {
    guard let split = raw.range(of: "\r\n\r\n") else { return nil }
    let head = raw[..<split.lowerBound].components(separatedBy: "\r\n")
    let statusParts = head.first?.split(separator: " ") ?? []
    guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
    var headers: [String: String] = [:]
    for line in head.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    let body = String(raw[split.upperBound...])
    // Switching protocols: what follows is WebSocket, not a body.
    if status == 101 { return HTTPResult(status: status, headers: headers, body: "") }
    if let length = headers["content-length"].flatMap(Int.init) {
        guard body.utf8.count >= length else { return nil }
    } else if !complete {
        return nil
    }
    return HTTPResult(status: status, headers: headers, body: body)
}

/// `POST /authenticate` with JSON, returning the response and its decoded object.
func postAuthenticate(
    port: Int,
    path: String = "/authenticate",
    headers: [(String, String)],
    group: String = "xyz.groundmist.library",
    rootDocUrl: String? = nil
) async throws -> (HTTPResult, [String: Any]) {
    let root = rootDocUrl.map { "\"\($0)\"" } ?? "null"
    let response = try await httpRequest(
        port: port,
        method: "POST",
        path: path,
        headers: headers + [("Content-Type", "application/json")],
        body: #"{"lexiconAuthorityDomain":"\#(group)","rootDocUrl":\#(root)}"#
    )
    let object = (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any] ?? [:]
    return (response, object)
}

/// The status of a WebSocket upgrade request (101 when accepted).
func upgradeStatus(port: Int, path: String, headers: [(String, String)] = []) async throws -> Int {
    let response = try await httpRequest(
        port: port,
        path: path,
        headers: [
            ("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ] + headers
    )
    return response.status
}

extension TestOwner {
    var serviceAudience: String { "did:web:sync.example.com#groundmist_sync" }
}

/// Logs in with a fresh service-auth token and returns the sync token.
func serviceAuthLogin(
    port: Int,
    owner: TestOwner,
    group: String = "xyz.groundmist.library",
    rootDocUrl: String? = nil,
    issuedAt: Double = Date().timeIntervalSince1970
) async throws
    -> (token: String, root: String?)
{
    let jwt = try owner.serviceAuthToken(aud: owner.serviceAudience, iat: issuedAt)
    let (response, object) = try await postAuthenticate(
        port: port,
        headers: [("Authorization", "Bearer \(jwt)")],
        group: group,
        rootDocUrl: rootDocUrl
    )
    guard response.status == 200, let token = object["token"] as? String else {
        throw TimedOut(what: "login failed with \(response.status): \(response.body)")
    }
    return (token, object["rootDocUrl"] as? String)
}
