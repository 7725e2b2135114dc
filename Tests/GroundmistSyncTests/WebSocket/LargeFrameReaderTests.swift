import NIOCore
import NIOEmbedded
import NIOWebSocket
import TestSupport
import Testing

@testable import GroundmistSync

/// The reader before NIO's frame decoder (attack (c) of issue 14): large data frames are read into
/// a buffer of their own size and unmasked there; every other frame is still NIO's to decode.
@Suite struct LargeFrameReaderTests {
    /// One frame as a client puts it on the wire: masked when `key` is given (RFC 6455 §5.2).
    static func wire(_ opcode: UInt8, payload: [UInt8], fin: Bool = true, key: WebSocketMaskingKey? = nil, rsv1: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode]
        let maskBit: UInt8 = key == nil ? 0 : 0x80
        if payload.count > 0xFFFF {
            bytes.append(maskBit | 127)
            bytes += withUnsafeBytes(of: UInt64(payload.count).bigEndian, Array.init)
        } else if payload.count > 125 {
            bytes.append(maskBit | 126)
            bytes += withUnsafeBytes(of: UInt16(payload.count).bigEndian, Array.init)
        } else {
            bytes.append(maskBit | UInt8(payload.count))
        }
        guard let key else { return bytes + payload }
        let keyBytes = Array(key)
        bytes += keyBytes
        return bytes + payload.enumerated().map { $0.element ^ keyBytes[$0.offset % 4] }
    }

    static func payload(_ count: Int, seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    /// `[reader, NIO's decoder, limiter]`, as `InboundReadLimiter.install` builds it.
    static func channel(maxFrameSize: Int = 1 << 22, limit: Int = 1 << 30) throws -> (EmbeddedChannel, InboundReadLimiter) {
        let channel = EmbeddedChannel()
        let limiter = InboundReadLimiter(limit: limit, eventLoop: channel.eventLoop)
        try channel.pipeline.syncOperations.addHandler(LargeFrameReader(maxFrameSize: maxFrameSize, limiter: limiter))
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrameSize)))
        try channel.pipeline.syncOperations.addHandler(limiter)
        return (channel, limiter)
    }

    /// Writes `stream` in pieces cut at `cuts` and returns every frame that came out, unmasked.
    static func frames(of stream: [UInt8], cutAt cuts: [Int], channel: EmbeddedChannel) throws -> [WebSocketFrame] {
        var start = 0
        for cut in cuts.sorted() + [stream.count] where cut > start {
            try channel.writeInbound(ByteBuffer(bytes: stream[start..<cut]))
            start = cut
        }
        var frames: [WebSocketFrame] = []
        while let frame = try channel.readInbound(as: WebSocketFrame.self) { frames.append(frame) }
        return frames
    }

    @Test func aLargeMaskedFrameArrivesUnmaskedInABufferOfItsOwnSizeBetweenSmallFramesInOrder() throws {
        let (channel, _) = try Self.channel()
        let key: WebSocketMaskingKey = [0x11, 0x22, 0x33, 0x44]
        let big = Self.payload(200_001, seed: 1)
        let stream =
            Self.wire(0x2, payload: [1, 2, 3], key: key) + Self.wire(0x2, payload: big, key: key, rsv1: true)
            + Self.wire(0x9, payload: [7], key: key) + Self.wire(0x2, payload: [4, 5], key: key)
        // Cuts inside the head, at odd offsets of the payload (the mask's phase) and at its end.
        let frames = try Self.frames(of: stream, cutAt: [5, 12, 14, 1001, 65_539, 65_542, 200_020], channel: channel)
        #expect(frames.map(\.opcode) == [.binary, .binary, .ping, .binary])
        #expect(
            frames.map(\.unmaskedData) == [ByteBuffer(bytes: [1, 2, 3]), ByteBuffer(bytes: big), ByteBuffer(bytes: [7]), ByteBuffer(bytes: [4, 5])]
        )
        let large = try #require(frames.dropFirst().first)
        #expect(large.maskKey == nil && large.fin && large.rsv1 && !large.rsv2)
        // NIO rounds a capacity up to a power of two; the pages past the payload are never touched.
        #expect(large.data.storageCapacity < 2 * big.count, "the payload sits in a buffer allocated once for its size")
        #expect(frames[0].maskKey == key, "small frames are NIO's, as they were")
        _ = try channel.finish()
    }

    /// Any cut of any mix of frames gives what NIO's decoder gives on its own.
    @Test func randomlyCutStreamsDecodeAsNIOsDecoderAlone() throws {
        var random = SplitMix64(seed: 14)
        for round in 0..<20 {
            var stream: [UInt8] = []
            for index in 0..<6 {
                let size = [0, 5, 126, 70_000, 65_536, 65_535][Int(random.next() % 6)]
                let key: WebSocketMaskingKey? = random.next() % 3 == 0 ? nil : WebSocketMaskingKey(Self.payload(4, seed: random.next()))
                let opcode: UInt8 = index == 0 || random.next() % 2 == 0 ? 0x2 : 0x0
                stream += Self.wire(opcode, payload: Self.payload(size, seed: random.next()), fin: random.next() % 2 == 0, key: key)
            }
            let cuts = (0..<Int(random.next() % 12)).map { _ in Int(random.next() % UInt64(stream.count)) }
            let (channel, _) = try Self.channel()
            let frames = try Self.frames(of: stream, cutAt: cuts, channel: channel)
            let reference = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 22)))
            let expected = try Self.frames(of: stream, cutAt: [], channel: reference)
            #expect(frames.count == expected.count, "round \(round)")
            for (frame, want) in zip(frames, expected) {
                #expect(frame.opcode == want.opcode && frame.fin == want.fin, "round \(round)")
                #expect(frame.unmaskedData == want.unmaskedData, "round \(round)")
            }
            _ = try channel.finish()
            _ = try reference.finish()
        }
    }

    /// Counts the buffers passed on to NIO's decoder.
    final class BufferCounter: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        var buffers = 0
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            buffers += 1
            context.fireChannelRead(data)
        }
    }

    /// Small frames cost NIO's decoder one buffer per socket read, as without the reader, not one
    /// per frame: a flood of tiny messages must not cost more work per message.
    @Test func smallFramesReachNIOsDecoderInOneBufferPerRead() throws {
        let (channel, _) = try Self.channel()
        let counter = BufferCounter()
        let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<WebSocketFrameDecoder>.self)
        try channel.pipeline.syncOperations.addHandler(counter, position: .before(decoder))
        let key: WebSocketMaskingKey = [5, 6, 7, 8]
        let small = (0..<50).flatMap { Self.wire(0x2, payload: Self.payload($0 * 3, seed: UInt64($0)), key: key) }
        try channel.writeInbound(ByteBuffer(bytes: small + Self.wire(0x2, payload: [1], key: key).prefix(3)))
        #expect(counter.buffers == 1)
        try channel.writeInbound(ByteBuffer(bytes: Self.wire(0x2, payload: [1], key: key).dropFirst(3)))
        #expect(counter.buffers == 3, "the head kept across the reads, then the rest of its frame")
        var frames = 0
        while try channel.readInbound(as: WebSocketFrame.self) != nil { frames += 1 }
        #expect(frames == 51)
        _ = try channel.finish()
    }

    @Test func framesNIORefusesStillFailWithItsErrors() throws {
        for (stream, error) in [
            (Self.wire(0x2, payload: Self.payload(70_000, seed: 2)), NIOWebSocketError.invalidFrameLength),
            (Self.wire(0x9, payload: Self.payload(200, seed: 3)), .multiByteControlFrameLength),
            (Self.wire(0x9, payload: [1], fin: false), .fragmentedControlFrame),
        ] {
            let (channel, _) = try Self.channel(maxFrameSize: 65_536)
            #expect(throws: error) { try channel.writeInbound(ByteBuffer(bytes: stream)) }
            #expect(try channel.readInbound(as: WebSocketFrame.self) == nil)
            _ = try? channel.finish()
        }
    }

    /// A large frame still arriving counts towards the inbound bound, so it stops being read
    /// part-way while an earlier message waits.
    @Test func theBytesOfALargeFrameStillArrivingCountTowardsTheBound() throws {
        let (channel, limiter) = try Self.channel(limit: 100_000)
        let counter = InboundReadLimiterTests.ReadCounter()
        try channel.pipeline.syncOperations.addHandler(counter, position: .first)
        try channel.writeInbound(ByteBuffer(bytes: Self.wire(0x2, payload: Self.payload(600, seed: 4))))
        channel.pipeline.read()
        #expect(counter.reads == 1)
        let big = Self.wire(0x2, payload: Self.payload(150_000, seed: 5), key: [9, 8, 7, 6])
        try channel.writeInbound(ByteBuffer(bytes: big[0..<100_000]))
        channel.pipeline.read()
        #expect(counter.reads == 1, "600 pending and 100,000 bytes of a frame held: the read waits")
        limiter.handle.release(600)
        channel.embeddedEventLoop.run()
        #expect(counter.reads == 2, "nothing complete waits: the large frame is read to its end")
        try channel.writeInbound(ByteBuffer(bytes: big[100_000...]))
        #expect(limiter.pendingBytes == 150_000)
        #expect(try channel.readInbound(as: WebSocketFrame.self)?.length == 600)
        #expect(try channel.readInbound(as: WebSocketFrame.self)?.length == 150_000)
        _ = try channel.finish()
    }
}
