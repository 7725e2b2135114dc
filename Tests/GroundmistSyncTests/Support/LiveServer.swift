import AutomergeRepo
import Foundation
import GroundmistSync
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle
import TestSupport

var quietLogger: Logger {
    var logger = Logger(label: "groundmist-sync.tests")
    logger.logLevel = .critical
    return logger
}

extension ServerConfiguration {
    /// Loopback on a free port with a short ping so keep-alive tests run quickly.
    static func testing(maxMessageSize: Int = 1 << 20, pingInterval: Duration = .seconds(5)) -> ServerConfiguration {
        ServerConfiguration(host: "127.0.0.1", port: 0, maxMessageSize: maxMessageSize, pingInterval: pingInterval)
    }
}

/// Runs the server on an ephemeral loopback port for the duration of `body`.
func withLiveServer<T: Sendable>(
    configuration: ServerConfiguration = .testing(),
    endpoint: any RepoEndpoint,
    metrics: GroundmistMetrics = GroundmistMetrics(),
    _ body: @escaping @Sendable (_ port: Int) async throws -> T
) async throws -> T {
    let server = try GroundmistServer(configuration: configuration, endpoint: endpoint, logger: quietLogger, metrics: metrics)
    return try await withRunningServer(server, timeout: .seconds(30), "live server test", body)
}

/// Runs `server` on its (ephemeral) port until `body`, given that port, returns.
func withRunningServer<T: Sendable>(
    _ server: GroundmistServer,
    timeout: Duration,
    _ what: String,
    _ body: @escaping @Sendable (_ port: Int) async throws -> T
) async throws -> T {
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    let app = server.makeApplication { port in portContinuation.yield(port) }
    return try await withTimeout(timeout, what) {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                defer { portContinuation.finish() }
                try await app.run()
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw TimedOut(what: "server start") }
            let result = try await body(port)
            group.cancelAll()
            return result
        }
    }
}

/// A plain HTTP/1.1 GET over loopback, enough to check status, headers and body.
struct HTTPResult: Sendable {
    let status: Int
    let headers: [String: String]
    let body: String
}

func httpGet(port: Int, path: String) async throws -> HTTPResult {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    let raw = try await channel.executeThenClose { inbound, outbound in
        try await outbound.write(
            ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        )
        var response = ByteBuffer()
        for try await var chunk in inbound { response.writeBuffer(&chunk) }
        return String(buffer: response)
    }
    guard let split = raw.range(of: "\r\n\r\n") else { throw TimedOut(what: "malformed HTTP response") }
    let head = raw[..<split.lowerBound].components(separatedBy: "\r\n")
    let statusParts = head.first?.split(separator: " ") ?? []
    guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw TimedOut(what: "no HTTP status") }
    var headers: [String: String] = [:]
    for line in head.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return HTTPResult(status: status, headers: headers, body: String(raw[split.upperBound...]))
}

/// An endpoint that records what the transport does and answers frames as told.
actor RecordingEndpoint: RepoEndpoint {
    enum Event: Equatable, Sendable {
        case connected(RepoConnectionID)
        case frame(RepoConnectionID, [UInt8])
        case disconnected(RepoConnectionID)
    }

    private(set) var events: [Event] = []
    private var connections: [RepoConnectionID: any RepoConnection] = [:]
    private var nextID: UInt64 = 0
    private let greeting: [[UInt8]]
    private let replyDelay: Duration?
    private let closeAfterReply: Bool
    private let reply: @Sendable ([UInt8]) -> [[UInt8]]

    /// - Parameters:
    ///   - greeting: messages sent as soon as a connection registers.
    ///   - reply: messages sent back for each received frame.
    ///   - closeAfterReply: close the connection after answering a frame.
    init(
        greeting: [[UInt8]] = [],
        replyDelay: Duration? = nil,
        closeAfterReply: Bool = false,
        reply: @escaping @Sendable ([UInt8]) -> [[UInt8]] = { _ in [] }
    ) {
        self.greeting = greeting
        self.replyDelay = replyDelay
        self.closeAfterReply = closeAfterReply
        self.reply = reply
    }

    func connect(_ connection: any RepoConnection) async -> RepoConnectionID {
        nextID += 1
        let id = RepoConnectionID(rawValue: nextID)
        connections[id] = connection
        events.append(.connected(id))
        for message in greeting { await connection.send(message) }
        return id
    }

    func receive(_ frame: [UInt8], from id: RepoConnectionID) async {
        events.append(.frame(id, frame))
        guard let connection = connections[id] else { return }
        let answers = reply(frame)
        let closeAfterReply = closeAfterReply
        if let replyDelay {
            Task {
                try? await Task.sleep(for: replyDelay)
                for answer in answers { await connection.send(answer) }
                if closeAfterReply { await connection.close() }
            }
            return
        }
        for answer in answers { await connection.send(answer) }
        if closeAfterReply { await connection.close() }
    }

    /// Closes every live connection, as a repo shutting down would.
    func closeAll() async {
        for connection in connections.values { await connection.close() }
    }

    func disconnect(_ id: RepoConnectionID) {
        events.append(.disconnected(id))
        connections[id] = nil
    }

    var connectedIDs: [RepoConnectionID] {
        events.compactMap { if case .connected(let id) = $0 { id } else { nil } }
    }

    var disconnectedIDs: [RepoConnectionID] {
        events.compactMap { if case .disconnected(let id) = $0 { id } else { nil } }
    }

    func frames(from id: RepoConnectionID) -> [[UInt8]] {
        events.compactMap { if case .frame(id, let bytes) = $0 { bytes } else { nil } }
    }

    var allFrames: [[UInt8]] {
        events.compactMap { if case .frame(_, let bytes) = $0 { bytes } else { nil } }
    }
}

/// Collects values from inside `@Sendable` WebSocket handlers.
final class Collector<Value: Sendable>: Sendable {
    private let box = NIOLockedValueBox<[Value]>([])
    func append(_ value: Value) { box.withLockedValue { $0.append(value) } }
    var values: [Value] { box.withLockedValue { $0 } }
}
