import AutomergeCore
import TestSupport
import Testing

@testable import AutomergeRepo

/// Attack (e): ephemeral messages with a new session id each must not grow the repo's
/// de-duplication table without end.
@Suite struct EphemeralSeenTableTests {
    @Test func floodOfNewSessionsStaysWithinCapacity() {
        var table = EphemeralSeenTable(capacity: 1000)
        var accepted = 0
        for index in 0..<50_000 where table.isNew(sender: "flood", session: "session-\(index)", count: 1) { accepted += 1 }
        #expect(accepted == 50_000)
        #expect(table.count <= 1000)
    }

    @Test func echoesAreDroppedAndNewCountsPass() {
        var table = EphemeralSeenTable()
        let answers = [
            table.isNew(sender: "a", session: "s", count: 1),
            table.isNew(sender: "a", session: "s", count: 1),
            table.isNew(sender: "a", session: "s", count: 0),
            table.isNew(sender: "a", session: "s", count: 2),
            table.isNew(sender: "b", session: "s", count: 1),
            // A separator in the ids cannot make two pairs collide.
            table.isNew(sender: "a\u{0}s", session: "", count: 1),
        ]
        #expect(answers == [true, false, false, true, true, true])
    }

    @Test func entriesExpire() {
        var table = EphemeralSeenTable(capacity: 10, lifetime: .seconds(60))
        let start = ContinuousClock.now
        let first = table.isNew(sender: "a", session: "s", count: 5, now: start)
        let echo = table.isNew(sender: "a", session: "s", count: 5, now: start + .seconds(59))
        // Unseen for a lifetime: forgotten, and pruning drops it once the table fills.
        let late = table.isNew(sender: "a", session: "s", count: 5, now: start + .seconds(200))
        #expect(first && !echo && late)
        for index in 0..<11 { _ = table.isNew(sender: "b", session: "\(index)", count: 1, now: start + .seconds(400)) }
        #expect(table.count <= 10)
    }

    /// Sends one ephemeral message per new session id from a joined peer; returns the most
    /// sessions the repo's table held after any of them (receiving is awaited to its end).
    static func flood(_ configuration: Repo.Configuration, sessions: Int) async throws -> (peak: Int, final: Int) {
        let repo = Repo(configuration: configuration, storage: nil)
        let client = await RepoClient.scripted(to: repo, peerId: "flooder")
        _ = try await client.join()
        let document = DocumentId.random()
        var peak = 0
        for index in 0..<sessions {
            let message = EphemeralMessage(
                senderId: "flooder",
                targetId: "server",
                documentId: document.string,
                count: 1,
                sessionId: "s\(index)",
                data: [0xa0]
            )
            await client.send(.ephemeral(message))
            peak = max(peak, await repo.ephemeralSessionsTracked)
        }
        return (peak, await repo.ephemeralSessionsTracked)
    }

    /// The repo-level flood: many sessions from one joined peer leave a bounded table.
    @Test func repoTableIsBoundedUnderAFlood() async throws {
        let flood = try await Self.flood(.init(peerId: "server", sharePolicy: .requestsOnly), sessions: EphemeralSeenTable.defaultCapacity + 5_000)
        #expect(flood.peak == EphemeralSeenTable.defaultCapacity)
    }

    /// The repo's configuration sets the table's capacity (`GROUNDMIST_EPHEMERAL_SESSIONS`).
    @Test func repoTableTakesItsCapacityFromTheConfiguration() async throws {
        let configuration = Repo.Configuration(peerId: "server", sharePolicy: .requestsOnly, ephemeralSessions: 40, ephemeralLifetime: .seconds(60))
        let flood = try await Self.flood(configuration, sessions: 200)
        // The table filled to its capacity and no further.
        #expect(flood.peak == 40)
    }
}
