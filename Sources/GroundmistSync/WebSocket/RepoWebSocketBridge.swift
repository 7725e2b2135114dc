import AutomergeRepo
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket

/// Pumps one WebSocket (server or client side) to and from a `RepoEndpoint`: registers the
/// connection, hands every reassembled binary message to the endpoint in order, rejects text
/// frames with an automerge-repo `error`, and reports the disconnect exactly once.
///
/// Every queue is bounded (`ConnectionLimits`): messages waiting for the repo (the reader stops
/// reading past the bound), bytes waiting for the peer (the peer is closed past the bound), and
/// frames per message.
enum RepoWebSocketBridge {
    static let textFrameErrorMessage = "text frames are not supported: send each message as one binary CBOR frame"

    /// - Parameters:
    ///   - metrics: connection, message and byte counts (server side only; clients pass nil).
    ///   - readLimiter: the server's socket-level inbound bound (see `InboundReadLimiter`); told
    ///     when each message is done with.
    static func run(
        inbound: WebSocketInboundStream,
        outbound: WebSocketOutboundWriter,
        endpoint: any RepoEndpoint,
        maxMessageSize: Int,
        limits: ConnectionLimits = .default,
        readLimiter: InboundReadLimiter.Handle? = nil,
        closeTimeout: Duration,
        logger: Logger,
        metrics: GroundmistMetrics? = nil,
        forceClose: @escaping @Sendable () -> Void
    ) async throws {
        metrics?.connectionOpened()
        defer { metrics?.connectionClosed() }
        let (outbox, continuation) = AsyncStream.makeStream(of: OutboundItem.self)
        // A peer closed by a limit may never read our close frame: drop it after closeTimeout.
        let (violations, violationContinuation) = AsyncStream.makeStream(of: ConnectionLimitViolation.self)
        let connection = WebSocketRepoConnection(
            outbox: continuation,
            maxQueuedBytes: limits.maxQueuedOutboundBytes,
            maxMessageSize: maxMessageSize,
            onViolation: { violationContinuation.yield($0) }
        )
        let id = await endpoint.connect(connection)
        var connectionLogger = logger
        connectionLogger[metadataKey: "connection"] = "\(id)"
        let logger = connectionLogger
        logger.debug("WebSocket connected")

        // Messages are handed to the endpoint by their own task, in order, so that the reader
        // keeps reading while the endpoint awaits storage: pings and pongs are control frames
        // handled by the reader, and a busy repo must not look like a dead peer. The gate stops
        // the reader only when messages worth more than the inbound bound are waiting.
        let gate = InboundQueueGate(limit: limits.maxQueuedInboundBytes)
        let (inbox, inboxContinuation) = AsyncStream.makeStream(of: InboxMessage.self)
        let processor = Task {
            for await message in inbox {
                let count: Int
                switch consume message {
                case .small(let bytes):
                    count = bytes.count
                    await endpoint.submit(consume bytes, from: id)
                case .large(let buffer):
                    count = buffer.readableBytes
                    // Handed over, not copied: the repo decodes the frame in place and lets it go
                    // once nothing it decoded refers to it.
                    await endpoint.submit(buffer: consume buffer, from: id)
                }
                gate.release(count)
                readLimiter?.release(count)
            }
        }
        var readError: (any Error)?
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await writeLoop(outbox, connection: connection, outbound: outbound, logger: logger, metrics: metrics)
                // We asked to close: give the peer time to answer the close frame, then drop it.
                try? await Task.sleep(for: closeTimeout)
                if !Task.isCancelled { forceClose() }
            }
            group.addTask {
                for await violation in violations {
                    logger.notice("closing a connection: limit reached", metadata: ["reason": "\(violation.closeReason)"])
                    try? await Task.sleep(for: closeTimeout)
                    if !Task.isCancelled { forceClose() }
                    return
                }
            }
            do {
                var assembler = MessageAssembler(maxMessageSize: maxMessageSize, maxFrames: limits.maxFramesPerMessage)
                var frames = inbound.makeAsyncIterator()
                while let step = try await nextStep(&frames, assembler: &assembler, connection: connection) {
                    switch step {
                    case .dropped:
                        // What is read now is dropped at once: nothing to bound.
                        readLimiter?.disable()
                    case .refused(let error):
                        logger.notice("message refused", metadata: ["reason": "\(error.message)"])
                        reject(on: connection, message: error.message, code: error.closeCode)
                        readLimiter?.disable()
                    case .message(.binary(let bytes)):
                        logger.trace("received message", metadata: ["bytes": "\(bytes.readableBytes)"])
                        metrics?.received(bytes: bytes.readableBytes)
                        await gate.admit(bytes.readableBytes)
                        inboxContinuation.yield(InboxMessage(bytes))
                    case .message(.text(let count)):
                        readLimiter?.release(count)
                        logger.notice("text frame rejected", metadata: ["bytes": "\(count)"])
                        reject(on: connection, message: textFrameErrorMessage, code: .unacceptableData, reason: "binary frames only")
                    }
                }
            } catch {
                readError = error
            }
            inboxContinuation.finish()
            await processor.value
            connection.finish()
            violationContinuation.finish()
            group.cancelAll()
        }
        await endpoint.disconnect(id)
        if let readError {
            logger.debug("WebSocket disconnected", metadata: ["error.type": "\(type(of: readError))"])
            throw readError
        }
        logger.debug("WebSocket disconnected")
    }

    /// A message waiting for the repo. A small one is copied out of the read buffer it is a slice
    /// of, so that what waits costs its own size and does not keep read buffers alive; a large one
    /// (a frame the `LargeFrameReader` read into a buffer of its own, or an assembled message) is
    /// passed on as it is.
    private enum InboxMessage: Sendable {
        case small([UInt8])
        case large(ByteBuffer)

        init(_ buffer: ByteBuffer) {
            self = buffer.readableBytes < LargeFrameReader.ownBufferSize ? .small(Array(buffer.readableBytesView)) : .large(buffer)
        }
    }

    private enum InboundStep {
        case message(MessageAssembler.Message)
        case refused(MessageAssembler.Violation)
        /// A frame read while closing.
        case dropped
    }

    /// Reads frames until one completes a message (or is refused, or arrives while closing). The
    /// frames are released when this returns: a message waiting at the gate costs its own bytes,
    /// not also the frame buffer it was copied from.
    private static func nextStep(
        _ frames: inout WebSocketInboundStream.AsyncIterator,
        assembler: inout MessageAssembler,
        connection: WebSocketRepoConnection
    ) async throws -> InboundStep? {
        while let frame = try await frames.next() {
            if connection.isClosing { return .dropped }
            do throws(MessageAssembler.Violation) {
                if let message = try assembler.append(opcode: frame.opcode, data: frame.data, fin: frame.fin) { return .message(message) }
            } catch {
                return .refused(error)
            }
        }
        return nil
    }

    /// Sends an automerge-repo `error` and closes.
    private static func reject(on connection: WebSocketRepoConnection, message: String, code: WebSocketErrorCode, reason: String? = nil) {
        let error = RepoMessage.error(RepoErrorMessage(senderId: nil, message: message, targetId: nil))
        connection.enqueue(.message(error.encoded()))
        connection.close(code: code, reason: reason ?? String(message.prefix(120)))
    }

    private static func writeLoop(
        _ outbox: AsyncStream<OutboundItem>,
        connection: WebSocketRepoConnection,
        outbound: WebSocketOutboundWriter,
        logger: Logger,
        metrics: GroundmistMetrics?
    ) async {
        for await item in outbox {
            switch item {
            case .message(let bytes), .finalMessage(let bytes):
                defer { connection.written(item) }
                if case .message = item, !connection.shouldWriteQueuedMessages { continue }
                do {
                    try await outbound.writeBinaryMessage(ByteBuffer(bytes: bytes))
                    metrics?.sent(bytes: bytes.count)
                    logger.trace("sent message", metadata: ["bytes": "\(bytes.count)"])
                } catch {
                    logger.debug("send failed", metadata: ["error.type": "\(type(of: error))"])
                    return
                }
            case .close(let code, let reason):
                try? await outbound.close(code, reason: reason)
                return
            }
        }
    }
}

extension MessageAssembler.Violation {
    var closeCode: WebSocketErrorCode {
        switch self {
        case .tooManyFrames, .tooLarge: return .messageTooLarge
        case .badFragmentation: return .protocolError
        }
    }
}
