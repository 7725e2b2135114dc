package import AutomergeCore
import AutomergeRepo
import GroundmistSync
package import Logging

/// Drives a running server with Swift client peers: C clients each upload D documents of N
/// changes (one change per round trip, documents in parallel), then a fresh client fetches
/// every document back and checks its heads.
package struct LoadGenerator: Sendable {
    package struct Options: Sendable {
        package var url: String
        package var clients: Int
        package var documents: Int
        package var changes: Int

        package init(url: String, clients: Int, documents: Int, changes: Int) {
            self.url = url
            self.clients = clients
            self.documents = documents
            self.changes = changes
        }
    }

    package struct Report: Sendable {
        package var changes: Int
        package var uploadSeconds: Double
        package var fetchSeconds: Double
        /// Every change's round trip, in milliseconds.
        package var latencies: [Double]
        /// The same without each document's first change (which also opens the document on both
        /// sides): the steady state once every document is syncing.
        package var laterLatencies: [Double] = []
        /// Every change's round trip with its start (ms since the upload began) and its number in
        /// its document (1 = the first), for finding where a tail comes from.
        package var samples: [Sample] = []
        package var changesPerSecond: Double { Double(changes) / max(uploadSeconds, 1e-9) }
        package func percentile(_ p: Double) -> Double { Self.percentile(p, of: latencies) }
        package func laterPercentile(_ p: Double) -> Double { Self.percentile(p, of: laterLatencies) }

        static func percentile(_ p: Double, of values: [Double]) -> Double {
            guard !values.isEmpty else { return 0 }
            let sorted = values.sorted()
            return sorted[min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.down)))]
        }
    }

    package struct Sample: Sendable {
        package var start: Double
        package var milliseconds: Double
        package var number: Int
    }

    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    let options: Options
    let logger: Logger

    package init(options: Options, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    package func run() async throws -> Report {
        let clock = ContinuousClock()
        let uploadStart = clock.now
        let results = try await withThrowingTaskGroup(of: ([DocumentId: [ChangeHash]], [[Sample]]).self) { group in
            for index in 0..<options.clients {
                group.addTask { try await upload(client: index, since: uploadStart) }
            }
            var heads: [DocumentId: [ChangeHash]] = [:]
            var samples: [[Sample]] = []
            for try await (clientHeads, clientSamples) in group {
                heads.merge(clientHeads) { first, _ in first }
                samples.append(contentsOf: clientSamples)
            }
            return (heads, samples)
        }
        let uploadSeconds = Self.seconds(clock.now - uploadStart)
        let fetchStart = clock.now
        try await fetch(results.0)
        return Report(
            changes: options.clients * options.documents * options.changes,
            uploadSeconds: uploadSeconds,
            fetchSeconds: Self.seconds(clock.now - fetchStart),
            latencies: results.1.flatMap { $0.map(\.milliseconds) },
            laterLatencies: results.1.flatMap { $0.dropFirst().map(\.milliseconds) },
            samples: results.1.flatMap { $0 }
        )
    }

    /// Each document's round trips, in order.
    private func upload(client index: Int, since uploadStart: ContinuousClock.Instant) async throws -> ([DocumentId: [ChangeHash]], [[Sample]]) {
        let client = RepoClient(peerId: "bench-client-\(index)", storageId: "bench-storage-\(index)")
        let actor = ActorId((0..<16).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) })
        return try await connected(client) {
            try await withThrowingTaskGroup(of: (DocumentId, [ChangeHash], [Sample]).self) { group in
                for _ in 0..<options.documents {
                    group.addTask {
                        let document = DocumentId.random()
                        var latencies: [Sample] = []
                        latencies.reserveCapacity(options.changes)
                        let clock = ContinuousClock()
                        for number in 1...options.changes {
                            // From making the change (a few microseconds) to the server's acknowledgement.
                            let start = clock.now
                            try await client.applyAndWait(to: document) { Self.change(on: $0, actor: actor, number: number) }
                            latencies.append(
                                Sample(
                                    start: Self.seconds(start - uploadStart) * 1000,
                                    milliseconds: Self.seconds(clock.now - start) * 1000,
                                    number: number
                                )
                            )
                        }
                        return (document, await client.heads(of: document), latencies)
                    }
                }
                var heads: [DocumentId: [ChangeHash]] = [:]
                var latencies: [[Sample]] = []
                for try await (document, documentHeads, documentLatencies) in group {
                    heads[document] = documentHeads
                    latencies.append(documentLatencies)
                }
                return (heads, latencies)
            }
        }
    }

    private func fetch(_ expected: [DocumentId: [ChangeHash]]) async throws {
        let reader = RepoClient(peerId: "bench-reader")
        try await connected(reader) {
            for document in expected.keys { await reader.request(document) }
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(30)
            while clock.now < deadline {
                var complete = true
                for (document, heads) in expected where await reader.heads(of: document) != heads {
                    complete = false
                    break
                }
                if complete { return }
                try await Task.sleep(for: .milliseconds(20))
            }
            var behind = 0
            var empty = 0
            var unavailable = 0
            var examples: [String] = []
            let told = await reader.unavailable
            for (document, heads) in expected where await reader.heads(of: document) != heads {
                behind += 1
                if examples.count < 3 { examples.append(document.string) }
                if await reader.changeCount(of: document) == 0 { empty += 1 }
                if told.contains(document) { unavailable += 1 }
            }
            throw Failure(
                description:
                    "\(behind) of \(expected.count) fetched documents do not have the uploaded heads (\(empty) empty, \(unavailable) reported unavailable; e.g. \(examples.joined(separator: ", ")))"
            )
        }
    }

    /// Runs `body` while `client` is connected to the server.
    private func connected<T: Sendable>(_ client: RepoClient, _ body: @Sendable @escaping () async throws -> T) async throws -> T {
        let url = options.url
        let logger = logger
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                _ = try await RepoWebSocketClient(url: url, endpoint: client, logger: logger).run()
                return nil
            }
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(60)
            while await !client.isJoined {
                guard clock.now < deadline else { throw Failure(description: "could not join the server at \(url)") }
                try await Task.sleep(for: .milliseconds(5))
            }
            let result = try await body()
            await client.close()
            group.cancelAll()
            return result
        }
    }

    package static func change(on graph: ChangeGraph, actor: ActorId, number: Int) -> ChangeChunk {
        let seq = UInt64(number)
        let maxOp = graph.allHashes.last.flatMap { graph.metadata(for: $0)?.maxOp } ?? 0
        return Change(
            deps: graph.heads,
            actor: actor,
            seq: seq,
            startOp: maxOp + 1,
            ops: [Op(object: .root, key: .map("k\(number % 16)"), action: .put, value: .int(Int64(number)))]
        ).encodeChunk()
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
