import AutomergeRepo
import HummingbirdWSClient
import NIOCore
import NIOEmbedded
import NIOWebSocket
import TestSupport
import Testing

@testable import GroundmistSync

/// The socket-level inbound bound (attack (c) of issue 14): NIO's async channel reads ahead by ten
/// frames whatever their size, so the limiter after the frame decoder holds `read` back once the
/// bytes the repo has not processed reach the bound.
@Suite struct InboundReadLimiterTests {
    /// Counts the `read` events that get past the limiter (towards the socket).
    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = WebSocketFrame
        var reads = 0
        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    static func frame(_ opcode: WebSocketOpcode, bytes: Int, fin: Bool = true) -> WebSocketFrame {
        WebSocketFrame(fin: fin, opcode: opcode, data: ByteBuffer(repeating: 7, count: bytes))
    }

    /// A channel with `[ReadCounter, limiter]`, reads issued from the tail as NIO's async channel does.
    static func channel(limit: Int) throws -> (EmbeddedChannel, ReadCounter, InboundReadLimiter) {
        let channel = EmbeddedChannel()
        let counter = ReadCounter()
        let limiter = InboundReadLimiter(limit: limit, eventLoop: channel.eventLoop)
        try channel.pipeline.syncOperations.addHandler(counter)
        try channel.pipeline.syncOperations.addHandler(limiter)
        return (channel, counter, limiter)
    }

    @Test func holdsReadsOnceUnprocessedMessagesReachTheBoundAndResumesOnRelease() throws {
        let (channel, counter, limiter) = try Self.channel(limit: 1000)
        let handle = limiter.handle
        channel.pipeline.read()
        #expect(counter.reads == 1)
        try channel.writeInbound(Self.frame(.binary, bytes: 600))
        channel.pipeline.read()
        #expect(counter.reads == 2, "600 of 1000 bytes pending: reading goes on")
        try channel.writeInbound(Self.frame(.binary, bytes: 600))
        channel.pipeline.read()
        channel.pipeline.read()
        #expect(counter.reads == 2, "1200 bytes pending: the read must be held back")
        #expect(limiter.pendingBytes == 1200)
        handle.release(600)
        channel.embeddedEventLoop.run()
        #expect(counter.reads == 3, "back under the bound: exactly the held read goes on")
        #expect(limiter.pendingBytes == 600)
        #expect(try channel.readInbound(as: WebSocketFrame.self)?.length == 600, "frames are passed on untouched")
        _ = try channel.finish()
    }

    @Test func aMessageLargerThanTheBoundIsReadToItsEndWhileNothingElseWaits() throws {
        let (channel, counter, limiter) = try Self.channel(limit: 100)
        let handle = limiter.handle
        try channel.writeInbound(Self.frame(.binary, bytes: 80, fin: false))
        try channel.writeInbound(Self.frame(.continuation, bytes: 80, fin: false))
        channel.pipeline.read()
        #expect(counter.reads == 1, "a message in progress with nothing complete pending is read on")
        try channel.writeInbound(Self.frame(.continuation, bytes: 80, fin: true))
        channel.pipeline.read()
        #expect(counter.reads == 1, "240 complete bytes pending: held")
        // The next message starts while the big one waits: held until the repo is done.
        handle.release(240)
        channel.embeddedEventLoop.run()
        #expect(counter.reads == 2)
        #expect(limiter.pendingBytes == 0)
        _ = try channel.finish()
    }

    @Test func controlFramesAreNotCountedAndDisablingStopsLimiting() throws {
        let (channel, counter, limiter) = try Self.channel(limit: 100)
        let handle = limiter.handle
        try channel.writeInbound(Self.frame(.ping, bytes: 100))
        try channel.writeInbound(Self.frame(.pong, bytes: 100))
        #expect(limiter.pendingBytes == 0)
        try channel.writeInbound(Self.frame(.binary, bytes: 150))
        channel.pipeline.read()
        #expect(counter.reads == 0)
        handle.disable()
        channel.embeddedEventLoop.run()
        #expect(counter.reads == 1, "a closing connection drops what it reads: nothing to bound")
        channel.pipeline.read()
        #expect(counter.reads == 2)
        _ = try channel.finish()
    }

    @Test func releasesOfMessagesDecodedBeforeTheLimiterNeverGoBelowZero() throws {
        let (channel, counter, limiter) = try Self.channel(limit: 100)
        let handle = limiter.handle
        handle.release(5000)
        channel.embeddedEventLoop.run()
        try channel.writeInbound(Self.frame(.binary, bytes: 150))
        channel.pipeline.read()
        #expect(counter.reads == 0, "an over-release must not loosen the bound")
        _ = try channel.finish()
    }

    /// An unmasked binary frame as a client library would put it on the wire (less the mask).
    static func wireFrame(payload: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(0x82))
        if payload > 0xFFFF {
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(payload))
        } else if payload > 125 {
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(payload))
        } else {
            buffer.writeInteger(UInt8(payload))
        }
        buffer.writeRepeatingByte(7, count: payload)
        return buffer
    }

    /// With the real decoder: a big frame still arriving counts too, so it stops being read part-way
    /// while an earlier message waits, instead of being read (and buffered) whole.
    @Test func bytesOfAFrameStillArrivingCountTowardsTheBound() throws {
        let channel = EmbeddedChannel()
        let counter = ReadCounter()
        let limiter = InboundReadLimiter(limit: 1000, eventLoop: channel.eventLoop)
        let decoder = ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20))
        try channel.pipeline.syncOperations.addHandler(counter)
        try channel.pipeline.syncOperations.addHandler(LargeFrameReader(maxFrameSize: 1 << 20, limiter: limiter))
        try channel.pipeline.syncOperations.addHandler(decoder)
        try channel.pipeline.syncOperations.addHandler(limiter)
        try channel.writeInbound(Self.wireFrame(payload: 600))
        #expect(limiter.pendingBytes == 600)
        channel.pipeline.read()
        #expect(counter.reads == 1, "600 of 1000 bytes: reading goes on")
        // Half of a 4,000-byte frame: not decoded yet, but 600 + 2,004 bytes are held.
        var big = Self.wireFrame(payload: 4000)
        let firstHalf = try #require(big.getSlice(at: big.readerIndex, length: 2004))
        big.moveReaderIndex(forwardBy: 2004)
        try channel.writeInbound(firstHalf)
        #expect(limiter.pendingBytes == 600)
        channel.pipeline.read()
        #expect(counter.reads == 1, "the partly received frame must count towards the bound")
        limiter.handle.release(600)
        channel.embeddedEventLoop.run()
        #expect(counter.reads == 2, "nothing else waits: the big frame is read to its end")
        try channel.writeInbound(big)
        #expect(limiter.pendingBytes == 4000)
        _ = try channel.finish()
    }

    /// On a live server: while the repo is stuck, a message bigger than the bound, in fragments,
    /// still gets through once the repo catches up, in order, and nothing is lost.
    @Test func liveServerDeliversEverythingInOrderAroundAStuckRepo() async throws {
        let release = BlockingGate()
        let endpoint = SizeRecordingEndpoint(gate: release)
        var configuration = ServerConfiguration.testing(maxMessageSize: 1 << 20)
        configuration.connectionLimits = ConnectionLimits(maxQueuedInboundBytes: 32 * 1024)
        try await withLiveServer(configuration: configuration, endpoint: endpoint) { port in
            let sender = Task {
                try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/", configuration: .init(maxFrameSize: 1 << 20), logger: quietLogger) {
                    _,
                    outbound,
                    _ in
                    try await outbound.writeBinaryMessage(ByteBuffer(repeating: 1, count: 10))
                    for _ in 0..<4 { try await outbound.writeBinaryMessage(ByteBuffer(repeating: 2, count: 64 * 1024)) }
                    try await outbound.withBinaryMessageWriter { write in
                        for _ in 0..<16 { try await write(ByteBuffer(repeating: 3, count: 16 * 1024)) }
                    }
                    try await outbound.writeBinaryMessage(ByteBuffer(repeating: 4, count: 20))
                    try await Task.sleep(for: .seconds(30))
                }
            }
            defer { sender.cancel() }
            try await eventually("first message reached the repo") { await endpoint.sizes.count >= 1 }
            release.open()
            try await eventually("every message processed") { await endpoint.sizes.count == 7 }
            #expect(await endpoint.sizes == [10, 65536, 65536, 65536, 65536, 262_144, 20])
        }
    }
}

/// Records the size of each message; the first `receive` blocks until the gate opens.
actor SizeRecordingEndpoint: RepoEndpoint {
    let gate: BlockingGate
    private(set) var sizes: [Int] = []

    init(gate: BlockingGate) { self.gate = gate }

    func connect(_ connection: any RepoConnection) -> RepoConnectionID { RepoConnectionID(rawValue: 1) }

    func receive(_ frame: [UInt8], from id: RepoConnectionID) async {
        sizes.append(frame.count)
        if sizes.count == 1 { await gate.wait() }
    }

    func disconnect(_ id: RepoConnectionID) {}
}
