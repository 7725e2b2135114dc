import HTTPTypes
import HummingbirdWebSocket
import Logging
import NIOCore

/// Decides each WebSocket upgrade through the mode's `ConnectionAuthorizer` and runs the accepted
/// connection: the inbound read limit, registration as a live connection (so a revocation closes
/// it) and the bridge to the repo. Any path upgrades, as in the original server; clients normally
/// use "/".
struct WebSocketUpgradeHandler: Sendable {
    let authorizer: any ConnectionAuthorizer
    let configuration: ServerConfiguration
    let closeTimeout: Duration
    let logger: Logger
    let metrics: GroundmistMetrics

    typealias Result = ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>

    func shouldUpgrade(_ request: HTTPRequest, channel: any Channel) async -> Result {
        let upgrade = UpgradeRequest(
            target: request.path ?? "/",
            authorization: request.headerFields[values: .authorization],
            origins: request.headerFields[values: .origin]
        )
        let accepted: AcceptedConnection
        switch await authorizer.authorize(upgrade) {
        case .accept(let connection):
            accepted = connection
        case .refuse(let refusal):
            await RefusedUpgrade.respond(refusal, on: channel)
            return .dontUpgrade
        }
        // No frame is read until the inbound limiter is in place (see InboundReadLimiter).
        await InboundReadLimiter.pauseReading(on: channel)
        return .upgrade([:]) { inbound, outbound, _ in
            try await run(accepted, inbound: inbound, outbound: outbound, channel: channel)
        }
    }

    private func run(
        _ accepted: AcceptedConnection,
        inbound: WebSocketInboundStream,
        outbound: WebSocketOutboundWriter,
        channel: any Channel
    )
        async throws
    {
        let readLimiter = await InboundReadLimiter.install(
            on: channel,
            limit: configuration.connectionLimits.maxQueuedInboundBytes,
            maxFrameSize: configuration.maxMessageSize
        )
        var connectionLogger = logger
        for (key, value) in accepted.logMetadata { connectionLogger[metadataKey: key] = value }
        let unregister = await accepted.register { channel.close(promise: nil) }
        let result: Swift.Result<Void, any Error>
        do {
            try await RepoWebSocketBridge.run(
                inbound: inbound,
                outbound: outbound,
                endpoint: accepted.endpoint,
                maxMessageSize: configuration.maxMessageSize,
                limits: configuration.connectionLimits,
                readLimiter: readLimiter,
                closeTimeout: closeTimeout,
                logger: connectionLogger,
                metrics: metrics,
                forceClose: { channel.close(promise: nil) }
            )
            result = .success(())
        } catch {
            result = .failure(error)
        }
        await unregister()
        try result.get()
    }
}
