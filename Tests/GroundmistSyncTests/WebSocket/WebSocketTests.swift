import AutomergeRepo
import HummingbirdWSClient
import NIOCore
import NIOWebSocket
import ServiceLifecycle
import TestSupport
import Testing

@testable import GroundmistSync

/// Tags a reply so the test can tell it from an echo of its own bytes.
private let replyMarker: UInt8 = 0xAA
private let echo: @Sendable ([UInt8]) -> [[UInt8]] = { [[replyMarker] + $0] }

@Suite struct WebSocketTests {
    @Test func binaryMessagesRoundTripInOrder() async throws {
        let endpoint = RecordingEndpoint(reply: echo)
        // Far above the 16 KiB WebSocket default frame size, so it only passes if the server raised its limit.
        let large = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let sent: [[UInt8]] = [[1], [2, 2], [3, 3, 3], large]
        try await withLiveServer(endpoint: endpoint) { port in
            let replies = Collector<[UInt8]>()
            let close = try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)/any/path?token=x",
                configuration: .init(maxFrameSize: 1 << 20),
                logger: quietLogger
            ) { inbound, outbound, _ in
                for message in sent { try await outbound.writeBinaryMessage(ByteBuffer(bytes: message)) }
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    guard case .binary(let buffer) = message else { continue }
                    replies.append(Array(buffer.readableBytesView))
                    if replies.values.count == sent.count { break }
                }
            }
            #expect(close?.closeCode == .normalClosure)
            // Compared as Bools so a failure does not print 300 KB of bytes.
            let repliesMatch = replies.values == sent.map { [replyMarker] + $0 }
            #expect(repliesMatch, "replies: \(replies.values.map(\.count)) bytes")
            try await eventually("disconnect reported") { await endpoint.disconnectedIDs.count == 1 }
            let id = try #require(await endpoint.connectedIDs.first)
            let framesMatch = await endpoint.frames(from: id) == sent
            #expect(framesMatch)
            #expect(await endpoint.events.last == .disconnected(id))
        }
    }

    @Test func fragmentedMessageIsReassembled() async throws {
        let endpoint = RecordingEndpoint()
        try await withLiveServer(configuration: .testing(maxMessageSize: 1024), endpoint: endpoint) { port in
            try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/", logger: quietLogger) { _, outbound, _ in
                try await outbound.withBinaryMessageWriter { write in
                    for part in 0..<3 { try await write(ByteBuffer(bytes: [UInt8](repeating: UInt8(part), count: 300))) }
                }
                try await outbound.write(.binary(ByteBuffer(bytes: [9])))
            }
            try await eventually("disconnect reported") { await endpoint.disconnectedIDs.count == 1 }
            let expected = [0, 1, 2].flatMap { [UInt8](repeating: $0, count: 300) }
            #expect(await endpoint.allFrames == [expected, [9]])
        }
    }

    @Test func textFrameGetsAnErrorMessageAndIsClosed() async throws {
        let endpoint = RecordingEndpoint(reply: echo)
        try await withLiveServer(endpoint: endpoint) { port in
            let received = Collector<WebSocketMessage>()
            let close = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/", logger: quietLogger) {
                inbound,
                outbound,
                _ in
                try await outbound.write(.text("{\"type\":\"join\"}"))
                // Anything after the text frame is ignored: the connection is closing.
                try await outbound.write(.binary(ByteBuffer(bytes: [1, 2, 3])))
                for try await message in inbound.messages(maxSize: 1 << 20) { received.append(message) }
            }
            #expect(close?.closeCode == .unacceptableData)
            #expect(received.values.count == 1)
            guard case .binary(let buffer)? = received.values.first else {
                Issue.record("expected one binary error message, got \(received.values)")
                return
            }
            let message = try RepoMessage(decoding: Array(buffer.readableBytesView))
            guard case .error(let error) = message else {
                Issue.record("expected an error message, got \(message.type)")
                return
            }
            #expect(error.message == RepoWebSocketBridge.textFrameErrorMessage)
            try await eventually("disconnect reported") { await endpoint.disconnectedIDs.count == 1 }
            #expect(await endpoint.allFrames.isEmpty)
        }
    }

    @Test func frameOverTheLimitClosesTheConnection() async throws {
        let endpoint = RecordingEndpoint(reply: echo)
        try await withLiveServer(configuration: .testing(maxMessageSize: 1024), endpoint: endpoint) { port in
            let received = Collector<WebSocketMessage>()
            _ = try? await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)/",
                configuration: .init(maxFrameSize: 1 << 20),
                logger: quietLogger
            ) { inbound, outbound, _ in
                try await outbound.write(.binary(ByteBuffer(bytes: [UInt8](repeating: 1, count: 4096))))
                for try await message in inbound.messages(maxSize: 1 << 20) { received.append(message) }
            }
            try await eventually("disconnect reported") { await endpoint.disconnectedIDs.count == 1 }
            #expect(await endpoint.allFrames.isEmpty)
            #expect(received.values.isEmpty)
        }
    }

    @Test func fragmentedMessageOverTheLimitClosesTheConnection() async throws {
        let endpoint = RecordingEndpoint(reply: echo)
        try await withLiveServer(configuration: .testing(maxMessageSize: 1024), endpoint: endpoint) { port in
            let close = try? await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/", logger: quietLogger) {
                inbound,
                outbound,
                _ in
                // Every fragment fits; the message as a whole (1800 bytes) does not.
                try await outbound.withBinaryMessageWriter { write in
                    for _ in 0..<3 { try await write(ByteBuffer(bytes: [UInt8](repeating: 2, count: 600))) }
                }
                for try await _ in inbound.messages(maxSize: 1 << 20) {}
            }
            try await eventually("disconnect reported") { await endpoint.disconnectedIDs.count == 1 }
            #expect(await endpoint.allFrames.isEmpty)
            if let close { #expect(close.closeCode == .messageTooLarge) }
        }
    }

    @Test func endpointCloseSendsQueuedMessagesFirst() async throws {
        // The endpoint answers the first frame with three messages, then closes.
        let endpoint = RecordingEndpoint(closeAfterReply: true) { frame in [[1], [2], frame] }
        try await withLiveServer(endpoint: endpoint) { port in
            let received = Collector<[UInt8]>()
            let close = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/", logger: quietLogger) {
                inbound,
                outbound,
                _ in
                try await outbound.write(.binary(ByteBuffer(bytes: [7, 7])))
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .binary(let buffer) = message { received.append(Array(buffer.readableBytesView)) }
                }
            }
            #expect(close?.closeCode == .normalClosure)
            #expect(received.values == [[1], [2], [7, 7]])
            try await eventually("disconnect reported") { await endpoint.disconnectedIDs.count == 1 }
        }
    }

    @Test func manyConcurrentConnectionsStaySeparate() async throws {
        let endpoint = RecordingEndpoint(reply: echo)
        let clients = 24
        let messagesPerClient = 5
        try await withLiveServer(endpoint: endpoint) { port in
            try await withThrowingTaskGroup(of: [[UInt8]].self) { group in
                for client in 0..<clients {
                    group.addTask {
                        let replies = Collector<[UInt8]>()
                        try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/", logger: quietLogger) {
                            inbound,
                            outbound,
                            _ in
                            for sequence in 0..<messagesPerClient {
                                try await outbound.write(.binary(ByteBuffer(bytes: [UInt8(client), UInt8(sequence)])))
                            }
                            for try await message in inbound.messages(maxSize: 1 << 20) {
                                if case .binary(let buffer) = message { replies.append(Array(buffer.readableBytesView)) }
                                if replies.values.count == messagesPerClient { break }
                            }
                        }
                        let expected = (0..<messagesPerClient).map { [replyMarker, UInt8(client), UInt8($0)] }
                        #expect(replies.values == expected)
                        return replies.values
                    }
                }
                try await group.waitForAll()
            }
            try await eventually("every disconnect reported") { await endpoint.disconnectedIDs.count == clients }
            let ids = await endpoint.connectedIDs
            #expect(Set(ids).count == clients)
            #expect(Set(await endpoint.disconnectedIDs) == Set(ids))
            var clientsSeen = Set<UInt8>()
            for id in ids {
                let frames = await endpoint.frames(from: id)
                let client = try #require(frames.first?.first)
                clientsSeen.insert(client)
                #expect(frames == (0..<messagesPerClient).map { [client, UInt8($0)] })
            }
            #expect(clientsSeen.count == clients)
        }
    }

    @Test func peerThatAnswersPingsStaysConnected() async throws {
        // The reply arrives after several ping intervals; the client reads (and so answers pings) meanwhile.
        // Intervals long enough that a loaded machine still answers each ping before the next.
        let endpoint = RecordingEndpoint(replyDelay: .milliseconds(3500), reply: echo)
        let configuration = ServerConfiguration.testing(pingInterval: .seconds(1))
        try await withLiveServer(configuration: configuration, endpoint: endpoint) { port in
            let replies = Collector<[UInt8]>()
            try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/", logger: quietLogger) { inbound, outbound, _ in
                try await outbound.write(.binary(ByteBuffer(bytes: [5])))
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .binary(let buffer) = message {
                        replies.append(Array(buffer.readableBytesView))
                        break
                    }
                }
            }
            #expect(replies.values == [[replyMarker, 5]])
        }
    }

    @Test func peerThatMissesPongsIsDropped() async throws {
        let endpoint = RecordingEndpoint()
        let configuration = ServerConfiguration.testing(pingInterval: .milliseconds(200))
        try await withLiveServer(configuration: configuration, endpoint: endpoint) { port in
            let droppedWhileSilent = Collector<Bool>()
            _ = try? await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/", logger: quietLogger) { _, _, _ in
                // Not reading inbound means pings go unanswered. Waits for the drop rather than a fixed time,
                // so a loaded machine that is slow to run the ping timer still passes.
                let deadline = ContinuousClock.now + .seconds(15)
                var dropped = false
                while !dropped, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                    dropped = await endpoint.disconnectedIDs.count == 1
                }
                droppedWhileSilent.append(dropped)
            }
            #expect(droppedWhileSilent.values == [true])
        }
    }

    @Test func unavailableEndpointAnswersWithAnError() async throws {
        try await withLiveServer(endpoint: UnavailableEndpoint()) { port in
            let received = Collector<[UInt8]>()
            let close = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/", logger: quietLogger) {
                inbound,
                outbound,
                _ in
                try await outbound.write(.binary(ByteBuffer(bytes: [0xa0])))
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .binary(let buffer) = message { received.append(Array(buffer.readableBytesView)) }
                }
            }
            #expect(close?.closeCode == .normalClosure)
            #expect(received.values.count == 1)
            let message = try RepoMessage(decoding: try #require(received.values.first))
            #expect(message == .error(RepoErrorMessage(senderId: nil, message: "repository not available yet", targetId: nil)))
        }
    }

    @Test func gracefulShutdownRunsTheFlushHook() async throws {
        let flushed = Collector<Bool>()
        let server = try GroundmistServer(
            configuration: .testing(),
            endpoint: RecordingEndpoint(),
            logger: quietLogger,
            onShutdown: { flushed.append(true) }
        )
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = server.makeApplication { portContinuation.yield($0) }
        let group = ServiceGroup(configuration: .init(services: [app], logger: quietLogger))
        try await withTimeout(.seconds(90), "graceful shutdown") {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    defer { portContinuation.finish() }
                    try await group.run()
                }
                var iterator = ports.makeAsyncIterator()
                let port = try #require(await iterator.next())
                #expect(try await httpGet(port: port, path: "/healthz").status == 200)
                #expect(flushed.values.isEmpty)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
        #expect(flushed.values == [true])
    }
}
