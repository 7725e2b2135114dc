import ATProto
import Foundation
import TestSupport
import Testing

@testable import GroundmistSync

/// Pending logins cost no session-file rewrite (issue 14): they live in memory and reach
/// `pending.json` at most once per `SessionStore.pendingWriteInterval`, where the CLI reads them.
@Suite struct PendingLoginStorageTests {
    static let group = "xyz.groundmist.library"

    static func fingerprint(_ dataDirectory: String, _ name: String) -> String? {
        StateDirectory(dataDirectory: dataDirectory).fingerprint(name)
    }

    static func createPending(_ store: SessionStore, address: String, key: String) async throws -> Session {
        try await store.create(group: group, method: .dpop, status: .pending, lifetime: 3600, keyThumbprint: key, remoteAddress: address)
    }

    @Test func aFloodOfPendingLoginsNeverRewritesTheSessionFileAndWritesThePendingFileAtABoundedRate() async throws {
        try await withTemporaryDirectory { dataDirectory in
            let clock = ManualClock(Date().timeIntervalSince1970.rounded(.down))
            let store = try SessionStore(dataDirectory: dataDirectory, now: { Date(timeIntervalSince1970: clock.now()) })
            let approved = try await store.create(group: Self.group, method: .cli, status: .approved, lifetime: 86400)
            let sessionFile = Self.fingerprint(dataDirectory, SessionStore.fileName)
            #expect(sessionFile != nil)
            // 200 logins from 200 addresses within one second.
            var first: Session?
            for index in 0..<200 {
                let session = try await Self.createPending(store, address: "198.51.100.\(index % 250)", key: "key-\(index)")
                if first == nil { first = session }
            }
            #expect(Self.fingerprint(dataDirectory, SessionStore.fileName) == sessionFile, "a pending login rewrote sessions.json")
            #expect(await store.fileWrites.sessions == 1)
            #expect(await store.fileWrites.pending == 1, "the first pending login is written at once, the rest wait")
            // Another process (the CLI) sees what was written: the first login.
            let early = try SessionStore(dataDirectory: dataDirectory)
            #expect(await early.all().map(\.id).contains(try #require(first).id))

            // A second later the server's poll writes the rest, capped.
            clock.advance(by: SessionStore.pendingWriteInterval)
            try await store.reloadIfChanged()
            #expect(await store.fileWrites.pending == 2)
            try await store.reloadIfChanged()
            #expect(await store.fileWrites.pending == 2, "nothing changed: nothing written")
            let cli = try SessionStore(dataDirectory: dataDirectory)
            let seen = await cli.all()
            #expect(seen.filter { $0.status == .pending }.count == LoginLimits.default.maximumPending)
            #expect(seen.contains { $0.id == approved.id })
            #expect(Self.fingerprint(dataDirectory, SessionStore.fileName) == sessionFile)
        }
    }

    @Test func theCLIApprovesAPendingLoginAndTheServerSeesIt() async throws {
        try await withTemporaryDirectory { dataDirectory in
            let clock = ManualClock(Date().timeIntervalSince1970.rounded(.down))
            let server = try SessionStore(dataDirectory: dataDirectory, now: { Date(timeIntervalSince1970: clock.now()) })
            let login = try await Self.createPending(server, address: "203.0.113.7", key: "owner-key")
            let other = try await Self.createPending(server, address: "203.0.113.8", key: "other-key")
            clock.advance(by: SessionStore.pendingWriteInterval)
            try await server.flushPendingIfDue()
            #expect(await server.fileWrites.pending == 2)
            // `sessions approve` in another process.
            let cli = try SessionStore(dataDirectory: dataDirectory)
            #expect(await cli.session(login.id)?.status == .pending)
            #expect(try await cli.setStatus(login.id, .approved).status == .approved)
            #expect(try await server.reloadIfChanged())
            #expect(await server.session(login.id)?.status == .approved)
            #expect(await server.all().filter { $0.id == login.id }.count == 1)
            // The approved login is in sessions.json for good; pending.json forgets it.
            let restarted = try SessionStore(dataDirectory: dataDirectory)
            #expect(await restarted.session(login.id)?.status == .approved)
            #expect(await restarted.session(other.id)?.status == .pending)
            // Revoking the other pending login works the same way.
            _ = try await cli.setStatus(other.id, .revoked)
            try await server.reloadIfChanged()
            #expect(await server.session(other.id)?.status == .revoked)
        }
    }

    @Test func aRepeatedPendingLoginChangesOnlyMemoryAndADamagedPendingFileIsIgnored() async throws {
        try await withTemporaryDirectory { dataDirectory in
            let clock = ManualClock(Date().timeIntervalSince1970.rounded(.down))
            let store = try SessionStore(dataDirectory: dataDirectory, now: { Date(timeIntervalSince1970: clock.now()) })
            let login = try await Self.createPending(store, address: "203.0.113.7", key: "owner-key")
            #expect(await store.reusable(keyThumbprint: "owner-key", group: Self.group)?.id == login.id)
            _ = try await store.extend(login.id, until: Date(timeIntervalSince1970: clock.now() + 7200), userAgent: "Library/2.0")
            #expect(await store.session(login.id)?.userAgent == "Library/2.0")
            #expect(await store.fileWrites.sessions == 0)
            #expect(!FileManager.default.fileExists(atPath: StateDirectory(dataDirectory: dataDirectory).filePath(SessionStore.fileName)))

            let pendingPath = StateDirectory(dataDirectory: dataDirectory).filePath(SessionStore.pendingFileName)
            try Data("{not json".utf8).write(to: URL(fileURLWithPath: pendingPath))
            let reopened = try SessionStore(dataDirectory: dataDirectory)
            #expect(await reopened.all().isEmpty)
        }
    }
}
