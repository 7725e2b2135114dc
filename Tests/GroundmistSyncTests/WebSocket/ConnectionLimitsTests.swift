import AutomergeRepo
import Foundation
import HummingbirdWSClient
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket
import TestSupport
import Testing

@testable import GroundmistSync

/// The per-connection bounds of issue 14: each test is an attack in miniature that today's
/// unbounded transport lets through.
@Suite struct ConnectionLimitsTests {
    static func configuration(_ limits: ConnectionLimits, maxMessageSize: Int = 1 << 20) -> ServerConfiguration {
        var configuration = ServerConfiguration.testing(maxMessageSize: maxMessageSize)
        configuration.connectionLimits = limits
        return configuration
    }

    /// The automerge-repo `error` messages among `messages`.
    static func errors(in messages: [[UInt8]]) -> [String] {
        messages.compactMap { bytes in
            guard case .error(let error)? = try? RepoMessage(decoding: bytes) else { return nil }
            return error.message
        }
    }

    /// Attack (a) in miniature: the repo queues far more for a peer than it reads. The peer is
    /// told which limit it hit and closed, instead of the server holding everything.
    @Test func peerThatFallsBehindIsClosedWithAnErrorNamingTheLimit() async throws {
        let big = [UInt8](repeating: 0x42, count: 32 * 1024)
        // 64 × 32 KiB = 2 MiB queued at once against a 128 KiB bound (small, so this test does
        // not starve the timing-sensitive live-server tests running beside it).
        let endpoint = RecordingEndpoint { _ in Array(repeating: big, count: 64) }
        let limits = ConnectionLimits(maxQueuedOutboundBytes: 128 * 1024)
        try await withLiveServer(configuration: Self.configuration(limits), endpoint: endpoint) { port in
            let received = Collector<[UInt8]>()
            let close = try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)/",
                configuration: .init(maxFrameSize: 1 << 20),
                logger: quietLogger
            ) { inbound, outbound, _ in
                try await outbound.writeBinaryMessage(ByteBuffer(bytes: [1]))
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .binary(let buffer) = message { received.append(Array(buffer.readableBytesView)) }
                }
            }
            let bigOnes = received.values.filter { $0.count == big.count }.count
            #expect(bigOnes < 64, "every queued message was sent: the queue is unbounded")
            let errors = Self.errors(in: received.values)
            #expect(errors.contains { $0.contains("outbound queue limit") && $0.contains("\(128 * 1024) bytes") }, "errors: \(errors)")
            #expect(close?.closeCode == .policyViolation)
            try await eventually("disconnect reported") { await endpoint.disconnectedIDs.count == 1 }
        }
    }

    /// A message larger than the peer accepts is never sent; the peer is told why.
    @Test func outgoingMessageOverTheMaximumSizeIsRefused() async throws {
        let endpoint = RecordingEndpoint { _ in [[UInt8](repeating: 7, count: 3000)] }
        try await withLiveServer(configuration: Self.configuration(.default, maxMessageSize: 1024), endpoint: endpoint) { port in
            let received = Collector<[UInt8]>()
            _ = try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)/",
                configuration: .init(maxFrameSize: 1 << 20),
                logger: quietLogger
            ) { inbound, outbound, _ in
                try await outbound.writeBinaryMessage(ByteBuffer(bytes: [1]))
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .binary(let buffer) = message { received.append(Array(buffer.readableBytesView)) }
                }
            }
            #expect(!received.values.contains { $0.count == 3000 }, "a message over the maximum size was sent")
            let errors = Self.errors(in: received.values)
            #expect(errors.contains { $0.contains("3000 bytes exceeds the maximum message size of 1024") }, "errors: \(errors)")
        }
    }

    /// Attack (d) in miniature: a message split into more frames than allowed is refused as soon as
    /// the limit passes, and never reaches the repo.
    @Test func messageWithTooManyFramesIsRefused() async throws {
        let endpoint = RecordingEndpoint()
        let limits = ConnectionLimits(maxFramesPerMessage: 8)
        try await withLiveServer(configuration: Self.configuration(limits), endpoint: endpoint) { port in
            let received = Collector<[UInt8]>()
            let close = try? await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/", logger: quietLogger) { inbound, outbound, _ in
                try await outbound.withBinaryMessageWriter { write in
                    for _ in 0..<20 { try await write(ByteBuffer(bytes: [5])) }
                }
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .binary(let buffer) = message { received.append(Array(buffer.readableBytesView)) }
                }
            }
            try await eventually("disconnect reported") { await endpoint.disconnectedIDs.count == 1 }
            #expect(await endpoint.allFrames.isEmpty, "the fragmented message reached the repo")
            let errors = Self.errors(in: received.values)
            #expect(errors.contains { $0.contains("more than 8 WebSocket frames") }, "errors: \(errors)")
            if let close { #expect(close.closeCode == .messageTooLarge) }
        }
    }

    /// A message within the frame limit is still reassembled.
    @Test func messageWithinTheFrameLimitIsDelivered() async throws {
        let endpoint = RecordingEndpoint()
        let limits = ConnectionLimits(maxFramesPerMessage: 8)
        try await withLiveServer(configuration: Self.configuration(limits), endpoint: endpoint) { port in
            try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/", logger: quietLogger) { _, outbound, _ in
                try await outbound.withBinaryMessageWriter { write in
                    for part in 0..<8 { try await write(ByteBuffer(bytes: [UInt8(part)])) }
                }
            }
            try await eventually("disconnect reported") { await endpoint.disconnectedIDs.count == 1 }
            #expect(await endpoint.allFrames == [[0, 1, 2, 3, 4, 5, 6, 7]])
        }
    }

    /// Attack (c) in miniature: while the repo is stuck on one message, the server stops reading
    /// the socket once the inbound bound is reached instead of queueing everything the peer sends.
    @Test func slowRepoStopsTheReader() async throws {
        let release = BlockingGate()
        let endpoint = BlockingEndpoint(gate: release)
        let metrics = GroundmistMetrics()
        let limits = ConnectionLimits(maxQueuedInboundBytes: 64 * 1024)
        let server = try GroundmistServer(configuration: Self.configuration(limits), endpoint: endpoint, logger: quietLogger, metrics: metrics)
        try await withRunningServer(server, timeout: .seconds(30), "back-pressure") { port in
            let sender = Task {
                try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/", configuration: .init(maxFrameSize: 1 << 20), logger: quietLogger) {
                    _,
                    outbound,
                    _ in
                    for _ in 0..<48 { try await outbound.writeBinaryMessage(ByteBuffer(bytes: [UInt8](repeating: 1, count: 16 * 1024))) }
                    try await Task.sleep(for: .seconds(30))
                }
            }
            defer { sender.cancel() }
            try await eventually("first message reached the repo") { await endpoint.received >= 1 }
            try await Task.sleep(for: .milliseconds(800))
            let read = Self.messagesIn(metrics)
            // 1 being processed + 4 queued (64 KiB) + 1 waiting at the gate; NIO may hold a few
            // decoded frames more, but not the 48 sent.
            #expect(read <= 16, "read \(read) of 48 messages while the repo was stuck")
            release.open()
            try await eventually("every message processed") { await endpoint.received == 48 }
        }
    }

    static func messagesIn(_ metrics: GroundmistMetrics) -> Int {
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(GroundmistMetrics.messagesLabel) && line.contains("\"in\"") {
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return Int(value) }
        }
        return -1
    }

    @Test func gateAdmitsOneMessageIntoAnEmptyQueueAndWaitsPastTheBound() async throws {
        let gate = InboundQueueGate(limit: 100)
        await gate.admit(500)  // larger than the bound, but the queue was empty
        #expect(gate.queuedBytes == 500)
        let admitted = NIOLockedValueBox(false)
        let waiter = Task {
            await gate.admit(10)
            admitted.withLockedValue { $0 = true }
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(!admitted.withLockedValue { $0 })
        gate.release(500)
        await waiter.value
        #expect(gate.queuedBytes == 10)
    }

    @Test func assemblerCopiesFragmentsAndCountsFrames() throws {
        var assembler = MessageAssembler(maxMessageSize: 10, maxFrames: 3)
        #expect(try assembler.append(opcode: .binary, data: ByteBuffer(bytes: [1, 2]), fin: false) == nil)
        #expect(try assembler.append(opcode: .continuation, data: ByteBuffer(bytes: [3]), fin: false) == nil)
        #expect(try assembler.append(opcode: .continuation, data: ByteBuffer(bytes: [4]), fin: true) == .binary(ByteBuffer(bytes: [1, 2, 3, 4])))
        #expect(throws: MessageAssembler.Violation.badFragmentation) {
            try assembler.append(opcode: .continuation, data: ByteBuffer(bytes: [1]), fin: true)
        }
        var second = MessageAssembler(maxMessageSize: 10, maxFrames: 3)
        _ = try second.append(opcode: .binary, data: ByteBuffer(bytes: [1]), fin: false)
        _ = try second.append(opcode: .continuation, data: ByteBuffer(bytes: [1]), fin: false)
        _ = try second.append(opcode: .continuation, data: ByteBuffer(bytes: [1]), fin: false)
        #expect(throws: MessageAssembler.Violation.tooManyFrames(limit: 3)) {
            try second.append(opcode: .continuation, data: ByteBuffer(bytes: [1]), fin: true)
        }
        var third = MessageAssembler(maxMessageSize: 4, maxFrames: 10)
        _ = try third.append(opcode: .binary, data: ByteBuffer(bytes: [1, 2, 3]), fin: false)
        #expect(throws: MessageAssembler.Violation.tooLarge(limit: 4)) {
            try third.append(opcode: .continuation, data: ByteBuffer(bytes: [1, 2]), fin: true)
        }
    }

    @Test func limitsAreReadFromTheEnvironment() throws {
        let configuration = try ServerConfiguration.parse([
            "GROUNDMIST_MAX_QUEUED_OUTBOUND_BYTES": "1000",
            "GROUNDMIST_MAX_QUEUED_INBOUND_BYTES": "2000",
            "GROUNDMIST_MAX_FRAMES_PER_MESSAGE": "3",
        ])
        #expect(configuration.connectionLimits == ConnectionLimits(maxQueuedOutboundBytes: 1000, maxQueuedInboundBytes: 2000, maxFramesPerMessage: 3))
        #expect(throws: ConfigurationError([.invalidLimit(name: "GROUNDMIST_MAX_FRAMES_PER_MESSAGE", value: "0")])) {
            try ServerConfiguration.parse(["GROUNDMIST_MAX_FRAMES_PER_MESSAGE": "0"])
        }
    }
}

/// Opens once; everyone waiting passes.
final class BlockingGate: Sendable {
    private let state = NIOLockedValueBox<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLockedValue { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLockedValue { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// An endpoint whose first `receive` blocks until the gate opens: a repo stuck on a slow change.
actor BlockingEndpoint: RepoEndpoint {
    let gate: BlockingGate
    private(set) var received = 0
    private var nextID: UInt64 = 0

    init(gate: BlockingGate) { self.gate = gate }

    func connect(_ connection: any RepoConnection) -> RepoConnectionID {
        nextID += 1
        return RepoConnectionID(rawValue: nextID)
    }

    func receive(_ frame: [UInt8], from id: RepoConnectionID) async {
        received += 1
        if received == 1 { await gate.wait() }
    }

    func disconnect(_ id: RepoConnectionID) {}
}
