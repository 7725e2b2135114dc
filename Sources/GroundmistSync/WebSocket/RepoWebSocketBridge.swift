import AutomergeRepo
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket

/// Pumps one WebSocket (server or client side) to and from a `RepoEndpoint`: registers the
/// connection, hands every reassembled binary message to the endpoint in order, rejects text
/// frames with an automerge-repo `error`, and reports the disconnect exactly once.
enum RepoWebSocketBridge {
    static let textFrameErrorMessage = "text frames are not supported: send each message as one binary CBOR frame"

    /// - Parameter metrics: connection, message and byte counts (server side only; clients pass nil).
    static func run(
        inbound: WebSocketInboundStream,
        outbound: WebSocketOutboundWriter,
        endpoint: any RepoEndpoint,
        maxMessageSize: Int,
        closeTimeout: Duration,
        logger: Logger,
        metrics: GroundmistMetrics? = nil,
        forceClose: @escaping @Sendable () -> Void
    ) async throws {
        metrics?.connectionOpened()
        defer { metrics?.connectionClosed() }
        let (outbox, continuation) = AsyncStream.makeStream(of: OutboundItem.self)
        let connection = WebSocketRepoConnection(outbox: continuation)
        let id = await endpoint.connect(connection)
        var connectionLogger = logger
        connectionLogger[metadataKey: "connection"] = "\(id)"
        let logger = connectionLogger
        logger.debug("WebSocket connected")

        // Messages are handed to the endpoint by their own task, in order, so that the reader
        // keeps reading while the endpoint awaits storage: pings and pongs are control frames
        // handled by the reader, and a busy repo must not look like a dead peer.
        let (inbox, inboxContinuation) = AsyncStream.makeStream(of: [UInt8].self)
        let processor = Task {
            for await frame in inbox { await endpoint.receive(frame, from: id) }
        }
        var readError: (any Error)?
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await writeLoop(outbox, outbound: outbound, logger: logger, metrics: metrics)
                // We asked to close: give the peer time to answer the close frame, then drop it.
                try? await Task.sleep(for: closeTimeout)
                if !Task.isCancelled { forceClose() }
            }
            do {
                for try await message in inbound.messages(maxSize: maxMessageSize) {
                    if connection.isClosing { continue }
                    switch message {
                    case .binary(let buffer):
                        logger.trace("received message", metadata: ["bytes": "\(buffer.readableBytes)"])
                        metrics?.received(bytes: buffer.readableBytes)
                        inboxContinuation.yield(Array(buffer.readableBytesView))
                    case .text(let text):
                        logger.notice("text frame rejected", metadata: ["bytes": "\(text.utf8.count)"])
                        let error = RepoMessage.error(
                            RepoErrorMessage(senderId: nil, message: textFrameErrorMessage, targetId: nil)
                        )
                        connection.enqueue(.message(error.encoded()))
                        connection.close(code: .unacceptableData, reason: "binary frames only")
                    }
                }
            } catch {
                readError = error
            }
            inboxContinuation.finish()
            await processor.value
            connection.finish()
            group.cancelAll()
        }
        await endpoint.disconnect(id)
        if let readError {
            logger.debug("WebSocket disconnected", metadata: ["error.type": "\(type(of: readError))"])
            throw readError
        }
        logger.debug("WebSocket disconnected")
    }

    private static func writeLoop(
        _ outbox: AsyncStream<OutboundItem>,
        outbound: WebSocketOutboundWriter,
        logger: Logger,
        metrics: GroundmistMetrics?
    ) async {
        for await item in outbox {
            switch item {
            case .message(let bytes):
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
