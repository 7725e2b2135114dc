import ATProto
import AutomergeRepo
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

@testable import GroundmistSync

/// What the once-a-second session watcher does besides revocations: expired tokens (review item
/// 11) and reload failures (item 3); and the group repos it relies on opening once (item 9).
@Suite struct SessionWatcherTests {
    @Test func expiredConnectionsAreClosed() async {
        let connections = LiveConnections()
        let closed = Recorder()
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        _ = await connections.add(session: "a", expires: now.addingTimeInterval(-1)) { closed.append("a") }
        _ = await connections.add(session: "b", expires: now.addingTimeInterval(3600)) { closed.append("b") }
        _ = await connections.add(session: "c") { closed.append("c") }
        #expect(await connections.closeExpired(now: now) == 1)
        #expect(closed.items == ["a"])
        #expect(await connections.count(of: "a") == 0)
        #expect(await connections.count(of: "b") == 1)
        #expect(await connections.closeExpired(now: now.addingTimeInterval(7200)) == 1)
        #expect(closed.items == ["a", "b"])
        #expect(await connections.sessionIDs == ["c"])
    }

    @Test func watcherClosesAConnectionWhenItsTokenExpires() async throws {
        let owner = try TestOwner()
        let clock = ManualClock(Date().timeIntervalSince1970)
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory, tokenLifetime: 3600, clock: clock)
            let session = try await authority.sessions.create(group: "xyz.groundmist.library", method: .cli, status: .approved, lifetime: 3600)
            let token = try await authority.tokens.mint(session: session)
            let grant = try #require(await authority.connections.authorize(target: "/?token=\(token)", authorization: []))
            #expect(grant.expires == session.expires)
            let closed = Recorder()
            _ = await authority.liveConnections.add(session: session.id, expires: grant.expires) { closed.append(session.id) }
            await authority.watcher.dropUnapprovedConnections()
            #expect(closed.items.isEmpty)
            clock.advance(by: 3601)
            await authority.watcher.dropUnapprovedConnections()
            #expect(closed.items == [session.id])
        }
    }

    @Test func reloadFailuresAreWarnedOncePerDistinctError() async throws {
        let owner = try TestOwner()
        let capture = LogCapture()
        try await withTemporaryDirectory { dataDirectory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory, logger: capture.logger)
            _ = try await authority.sessions.create(group: "xyz.groundmist.library", method: .cli, status: .approved, lifetime: 3600)
            // Another process leaves a file the server cannot read.
            try Data("not json".utf8).write(to: URL(fileURLWithPath: dataDirectory + "/.groundmist/sessions.json"))
            for _ in 0..<3 { await authority.watcher.dropUnapprovedConnections() }
            let warnings = capture.all.filter { $0.level == .warning && $0.message.contains("session file") }
            #expect(warnings.count == 1)
            // Repaired, then broken again: warned again.
            try FileManager.default.removeItem(atPath: dataDirectory + "/.groundmist/sessions.json")
            await authority.watcher.dropUnapprovedConnections()
            try Data("still not json".utf8).write(to: URL(fileURLWithPath: dataDirectory + "/.groundmist/sessions.json"))
            await authority.watcher.dropUnapprovedConnections()
            #expect(capture.all.filter { $0.level == .warning && $0.message.contains("session file") }.count == 2)
        }
    }

    @Test func concurrentFirstUsesOpenAGroupOnce() async throws {
        try await withTemporaryDirectory { dataDirectory in
            let groups = GroupRepositories(dataDirectory: dataDirectory, logger: quietLogger)
            let group = try NamespacePrefix("xyz.groundmist.library")
            let repos = try await withThrowingTaskGroup(of: Repo.self) { tasks in
                for _ in 0..<16 { tasks.addTask { try await groups.repo(for: group) } }
                var repos: [Repo] = []
                for try await repo in tasks { repos.append(repo) }
                return repos
            }
            #expect(await groups.storagesOpened == 1)
            #expect(Set(repos.map(ObjectIdentifier.init)).count == 1)
            #expect(await groups.openRepos.count == 1)
        }
    }
}

/// Records which connections were closed (the close callbacks are synchronous).
final class Recorder: Sendable {
    private let storage = Mutex<[String]>([])
    var items: [String] { storage.withLock { $0 } }
    func append(_ item: String) { storage.withLock { $0.append(item) } }
}
