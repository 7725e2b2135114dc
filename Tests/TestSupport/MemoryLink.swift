package import AutomergeRepo
import Synchronization

/// Connects a client endpoint to a server endpoint in memory. Delivery is inline: when `send`
/// returns, the other side has handled the frame, so a scripted `RepoClient` reads exactly what the
/// server said so far (`received()`), with no waiting. (An automatic client would answer from inside
/// the server's send and so re-enter a document's lock: use it over a real transport instead.)
package final class MemoryLink: Sendable {
    /// The connection as the server knows it (to `disconnect` it as a closed socket would).
    package let serverSideId: RepoConnectionID
    private let toClient: Pipe

    private init(serverSideId: RepoConnectionID, toClient: Pipe) {
        self.serverSideId = serverSideId
        self.toClient = toClient
    }

    /// True once the server closed its side.
    package var isClosedByServer: Bool { toClient.isClosed }

    /// Registers each side with the other; an automatic client sends its `join` now.
    package static func connect(_ client: any RepoEndpoint, to server: any RepoEndpoint) async -> MemoryLink {
        let toClient = Pipe(to: client)
        let toServer = Pipe(to: server)
        let serverSideId = await server.connect(toClient)
        toServer.setId(serverSideId)
        toClient.setId(await client.connect(toServer))
        return MemoryLink(serverSideId: serverSideId, toClient: toClient)
    }

    /// One direction: frames sent here are handed to `endpoint`; closing tells the endpoint.
    final class Pipe: RepoConnection, Sendable {
        private let endpoint: any RepoEndpoint
        private let state = Mutex<(id: RepoConnectionID?, closed: Bool)>((nil, false))

        init(to endpoint: any RepoEndpoint) { self.endpoint = endpoint }

        func setId(_ id: RepoConnectionID) { state.withLock { $0.id = id } }
        var isClosed: Bool { state.withLock { $0.closed } }

        func send(_ bytes: [UInt8]) async {
            guard let id = state.withLock({ $0.closed ? nil : $0.id }) else { return }
            await endpoint.receive(bytes, from: id)
        }

        func close() async {
            let id: RepoConnectionID? = state.withLock { state in
                guard !state.closed else { return nil }
                state.closed = true
                return state.id
            }
            if let id { await endpoint.disconnect(id) }
        }
    }
}

extension RepoClient {
    /// A scripted client on an in-memory link to `server`: connected, not yet joined.
    package static func scripted(
        to server: any RepoEndpoint,
        peerId: String,
        storageId: String? = nil,
        protocolVersions: [String]? = ["1"]
    ) async -> RepoClient {
        let client = RepoClient(peerId: peerId, storageId: storageId, mode: .scripted, protocolVersions: protocolVersions)
        _ = await MemoryLink.connect(client, to: server)
        return client
    }
}
