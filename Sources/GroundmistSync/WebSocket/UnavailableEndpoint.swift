package import AutomergeRepo

/// Stand-in endpoint until the real repo is wired in: it tells each peer, in protocol terms, that
/// there is nothing to sync with yet, so clients log a clear reason instead of hanging.
package actor UnavailableEndpoint: RepoEndpoint {
    package static let message = "repository not available yet"

    private var nextID: UInt64 = 0
    private var connections: [RepoConnectionID: any RepoConnection] = [:]

    package init() {}

    package func connect(_ connection: any RepoConnection) -> RepoConnectionID {
        nextID += 1
        let id = RepoConnectionID(rawValue: nextID)
        connections[id] = connection
        return id
    }

    package func receive(_ frame: [UInt8], from id: RepoConnectionID) async {
        guard let connection = connections.removeValue(forKey: id) else { return }
        let error = RepoMessage.error(RepoErrorMessage(senderId: nil, message: Self.message, targetId: nil))
        await connection.send(error.encoded())
        await connection.close()
    }

    package func disconnect(_ id: RepoConnectionID) {
        connections[id] = nil
    }
}
