package import AutomergeCore
package import AutomergeRepo
import GroundmistSync
package import Logging

/// One large document through a running server: a client pushes a saved document (sent as the file's
/// bytes, as the JS client sends its `save()`), and fresh clients fetch it back. The phases of
/// `groundmist-bench server --document`.
package struct DocumentTransfer: Sendable {
    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    let url: String
    let logger: Logger
    let timeout: Duration

    package init(url: String, logger: Logger, timeout: Duration = .seconds(300)) {
        self.url = url
        self.logger = logger
        self.timeout = timeout
    }

    /// Pushes the document as `id` and returns once the server reports its heads.
    package func push(_ bytes: [UInt8], as id: DocumentId) async throws -> [ChangeHash] {
        let client = RepoClient(peerId: "bench-pusher-\(UInt32.random(in: 0...UInt32.max))", storageId: "bench-pusher-storage")
        return try await connected(client) {
            try await client.open(bytes, as: id)
            let heads = await client.heads(of: id)
            try await client.waitUntilServerHas(heads, in: id)
            return heads
        }
    }

    /// Fetches the document with a fresh client until it has `heads`.
    package func fetch(_ id: DocumentId, heads: [ChangeHash]) async throws {
        let client = RepoClient(peerId: "bench-reader-\(UInt32.random(in: 0...UInt32.max))")
        let deadline = ContinuousClock.now + timeout
        try await connected(client) {
            await client.request(id)
            while await client.heads(of: id) != heads {
                if await client.unavailable.contains(id) { throw Failure(description: "the server says the document is unavailable") }
                guard ContinuousClock.now < deadline else { throw Failure(description: "the fetched document never reached the pushed heads") }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    private func connected<T: Sendable>(_ client: RepoClient, _ body: @Sendable @escaping () async throws -> T) async throws -> T {
        let url = url
        let logger = logger
        let deadline = ContinuousClock.now + timeout
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                _ = try await RepoWebSocketClient(url: url, endpoint: client, logger: logger).run()
                return nil
            }
            while await !client.isJoined {
                guard ContinuousClock.now < deadline else { throw Failure(description: "could not join the server at \(url)") }
                try await Task.sleep(for: .milliseconds(5))
            }
            let result = try await body()
            await client.close()
            group.cancelAll()
            return result
        }
    }
}

extension DocumentTransfer {
    package static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
