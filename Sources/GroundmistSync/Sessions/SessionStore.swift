package import Foundation

/// Why a session command failed.
package enum SessionStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(String)
    case storage(StateFileError)
    case corrupt(path: String)

    package var description: String {
        switch self {
        case .notFound(let id): "no session with id \(id); run `groundmist-sync sessions list` to see them"
        case .storage(let error): "cannot update the session store: \(error)"
        case .corrupt(let path): "\(path) is not a valid session file; move it aside to start with no sessions"
        }
    }
}

/// The sessions, persisted in `DATA_DIR/.groundmist/sessions.json`.
///
/// The server and CLI commands share the file: every change is a locked read-modify-write, and the
/// server re-reads the file when its fingerprint changes (`reloadIfChanged`), so `sessions approve`
/// or `revoke` run from another process takes effect without a restart.
///
/// Pending (unapproved) logins are not in that file: anyone with a DPoP key can start one, so they
/// live in memory and are mirrored to `pending.json` at most once per `pendingWriteInterval`,
/// where `sessions list` and `sessions approve` read them. Approving or revoking one moves it into
/// `sessions.json`, which wins over `pending.json` for the same id. A pending login started less
/// than `pendingWriteInterval` before the server stops may be lost; the app logs in again.
package actor SessionStore {
    static let fileName = "sessions.json"
    static let pendingFileName = "pending.json"
    /// `pending.json` is rewritten at most this often (seconds), however many logins arrive; the
    /// first change after a quiet spell is written at once, so `sessions list` shows it.
    package static let pendingWriteInterval: TimeInterval = 1
    /// Expired or revoked sessions are dropped this long after they stopped mattering.
    static let retention: TimeInterval = 7 * 24 * 3600
    /// How long a login may wait for `sessions approve`. Unapproved logins cost the owner nothing
    /// to ignore, so they go away on their own (and are not kept for `retention`).
    package static let pendingLifetime: TimeInterval = 24 * 3600
    /// At most `maximumPending` pending sessions: anyone with a DPoP key can create one, so one
    /// more evicts an old one instead of growing without limit — from the address holding the
    /// most, so a flood from one address evicts only its own. At most `maximumPendingPerAddress`
    /// per source address (an IPv6 /64 counts as one address): one more from the same address
    /// evicts that address's oldest, never another's.
    package let pendingLimits: (maximumPending: Int, maximumPendingPerAddress: Int)
    /// A pending session's approval window is pushed back by repeated logins only in steps of this.
    static let pendingRewriteInterval: TimeInterval = 3600

    package let directory: StateDirectory
    private var sessions: [String: Session] = [:]
    private var fingerprint: String?
    /// Pending logins (not in `sessions.json`): this process's, or read from `pending.json`.
    private var pending: [String: Session] = [:]
    private var pendingFingerprint: String?
    /// `pending` changed since `pending.json` was last written.
    private var pendingDirty = false
    private var lastPendingWrite: Date?
    /// How often this store replaced each file (a seam for tests: floods must not rewrite them).
    private(set) var fileWrites = (sessions: 0, pending: 0)
    private let now: @Sendable () -> Date

    package init(
        dataDirectory: String,
        limits: LoginLimits = .default,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws(SessionStoreError) {
        directory = StateDirectory(dataDirectory: dataDirectory)
        pendingLimits = (max(1, limits.maximumPending), max(1, limits.maximumPendingPerAddress))
        self.now = now
        let loaded = try Self.load(directory)
        sessions = loaded.sessions
        fingerprint = loaded.fingerprint
        let loadedPending = Self.loadPending(directory)
        // Approved or revoked since: `sessions.json` wins.
        pending = loadedPending.sessions.filter { loaded.sessions[$0.key] == nil }
        pendingFingerprint = loadedPending.fingerprint
    }

    /// Every session, oldest first.
    package func all() -> [Session] {
        let current = now()
        var merged = sessions
        for (id, session) in pending where merged[id] == nil && session.expires > current { merged[id] = session }
        return merged.values.sorted { ($0.created, $0.id) < ($1.created, $1.id) }
    }

    package func session(_ id: String) -> Session? {
        if let session = sessions[id] { return session }
        guard let session = pending[id], session.expires > now() else { return nil }
        return session
    }

    /// Re-reads the files if another process changed them, and writes `pending.json` if it is due
    /// (`flushPendingIfDue`); returns true when `sessions.json` had changed.
    @discardableResult
    package func reloadIfChanged() throws(SessionStoreError) -> Bool {
        let changed = directory.fingerprint(Self.fileName) != fingerprint
        if changed {
            let loaded = try Self.load(directory)
            sessions = loaded.sessions
            fingerprint = loaded.fingerprint
            settlePending()
        }
        // Another process's pending logins (this one has none of its own left to write).
        if !pendingDirty, directory.fingerprint(Self.pendingFileName) != pendingFingerprint {
            let loaded = Self.loadPending(directory)
            pending = loaded.sessions
            pendingFingerprint = loaded.fingerprint
            settlePending()
        }
        try flushPendingIfDue()
        return changed
    }

    /// Creates and persists a session. Client-supplied labels are sanitised (`Session.sanitized`);
    /// a pending session lives at most `pendingLifetime` and may evict older pending ones
    /// (`createReportingEvictions`).
    package func create(
        group: String,
        method: Session.Method,
        status: Session.Status,
        lifetime: TimeInterval,
        clientId: String? = nil,
        keyThumbprint: String? = nil,
        rootDocUrl: String? = nil,
        userAgent: String? = nil,
        remoteAddress: String? = nil
    ) throws(SessionStoreError) -> Session {
        try createReportingEvictions(
            group: group,
            method: method,
            status: status,
            lifetime: lifetime,
            clientId: clientId,
            keyThumbprint: keyThumbprint,
            rootDocUrl: rootDocUrl,
            userAgent: userAgent,
            remoteAddress: remoteAddress
        ).session
    }

    /// `create`, also returning the pending sessions it evicted to make room, so the caller can
    /// log each one: beyond `maximumPendingPerAddress` from the new session's address, that
    /// address's oldest; beyond `maximumPending` in all, the oldest of the address holding the most.
    package func createReportingEvictions(
        group: String,
        method: Session.Method,
        status: Session.Status,
        lifetime: TimeInterval,
        clientId: String? = nil,
        keyThumbprint: String? = nil,
        rootDocUrl: String? = nil,
        userAgent: String? = nil,
        remoteAddress: String? = nil
    ) throws(SessionStoreError) -> (session: Session, evicted: [Session]) {
        // Whole seconds: the file stores ISO 8601 dates.
        let created = Date(timeIntervalSince1970: now().timeIntervalSince1970.rounded(.down))
        let effectiveLifetime = status == .pending ? min(lifetime, Self.pendingLifetime) : lifetime
        let session = Session(
            id: Session.makeID(),
            group: group,
            method: method,
            clientId: Session.sanitized(clientId),
            keyThumbprint: keyThumbprint,
            rootDocUrl: Session.sanitized(rootDocUrl),
            userAgent: Session.sanitized(userAgent),
            remoteAddress: Session.sanitized(remoteAddress),
            created: created,
            expires: created.addingTimeInterval(effectiveLifetime.rounded(.down)),
            status: status
        )
        guard status == .pending else {
            try update { $0[session.id] = session }
            return (session, [])
        }
        let current = now()
        pending = pending.filter { $0.value.expires > current }
        let evicted = Self.makeRoom(for: session, in: &pending, limits: pendingLimits)
        pending[session.id] = session
        try pendingChanged()
        return (session, evicted)
    }

    /// Removes the pending sessions that must go before `newcomer` is added; returns them.
    private static func makeRoom(
        for newcomer: Session,
        in sessions: inout [String: Session],
        limits: (maximumPending: Int, maximumPendingPerAddress: Int)
    ) -> [Session] {
        var evicted: [Session] = []
        func pendingByAge() -> [Session] {
            sessions.values.filter { $0.status == .pending }.sorted { ($0.created, $0.id) < ($1.created, $1.id) }
        }
        let address = Session.addressKey(newcomer.remoteAddress)
        if let address {
            let own = pendingByAge().filter { Session.addressKey($0.remoteAddress) == address }
            for old in own.prefix(max(0, own.count - limits.maximumPendingPerAddress + 1)) {
                sessions[old.id] = nil
                evicted.append(old)
            }
        }
        while true {
            let pending = pendingByAge()
            guard pending.count >= limits.maximumPending else { break }
            // The address holding the most pending sessions gives up its oldest; the newcomer's
            // own address first on a tie.
            let groups = Dictionary(grouping: pending) { Session.addressKey($0.remoteAddress) ?? "" }
            let largest = groups.values.map(\.count).max() ?? 0
            let victimKey: String
            if groups[address ?? ""]?.count == largest {
                victimKey = address ?? ""
            } else {
                // Sorted by age: the first key of a largest group is the one with the oldest session.
                victimKey = pending.map { Session.addressKey($0.remoteAddress) ?? "" }.first { groups[$0]?.count == largest } ?? ""
            }
            guard let victim = groups[victimKey]?.first else { break }
            sessions[victim.id] = nil
            evicted.append(victim)
        }
        return evicted
    }

    /// The live (not revoked, not expired) DPoP session of this key and group, if any.
    package func reusable(keyThumbprint: String, group: String) -> Session? {
        let current = now()
        return (Array(sessions.values) + pending.values.filter { sessions[$0.id] == nil }).first {
            $0.method == .dpop && $0.keyThumbprint == keyThumbprint && $0.group == group && $0.status != .revoked && $0.expires > current
        }
    }

    /// Extends a session to a newly issued token's expiry (a pending one by `pendingLifetime` at
    /// most), and records what a repeated login submitted; nil leaves a field as it was.
    package func extend(
        _ id: String,
        until expires: Date,
        rootDocUrl: String? = nil,
        userAgent: String? = nil,
        remoteAddress: String? = nil
    ) throws(SessionStoreError) -> Session {
        let current = now()
        // A repeated pending login that changes nothing but moves its expiry by less than an hour
        // is not written: strangers' reloads cost no file rewrite.
        if let existing = session(id), existing.status == .pending,
            rootDocUrl.map({ Session.sanitized($0) == existing.rootDocUrl }) ?? true,
            userAgent.map({ Session.sanitized($0) == existing.userAgent }) ?? true,
            remoteAddress.map({ Session.sanitized($0) == existing.remoteAddress }) ?? true,
            min(expires, current.addingTimeInterval(Self.pendingLifetime)).timeIntervalSince(existing.expires) < Self.pendingRewriteInterval
        {
            return existing
        }
        return try modify(id) { session in
            var limit = expires
            if session.status == .pending { limit = min(limit, current.addingTimeInterval(Self.pendingLifetime)) }
            let rounded = Date(timeIntervalSince1970: limit.timeIntervalSince1970.rounded(.down))
            session.expires = max(session.expires, rounded)
            if let rootDocUrl { session.rootDocUrl = Session.sanitized(rootDocUrl) }
            if let userAgent { session.userAgent = Session.sanitized(userAgent) }
            if let remoteAddress { session.remoteAddress = Session.sanitized(remoteAddress) }
        }
    }

    /// Forgets a pending login's `rootDocUrl` once it has been registered.
    package func clearRootDocUrl(_ id: String) throws(SessionStoreError) {
        _ = try modify(id) { $0.rootDocUrl = nil }
    }

    package func setStatus(_ id: String, _ status: Session.Status) throws(SessionStoreError) -> Session {
        try modify(id) { $0.status = status }
    }

    /// Records a successful connection.
    package func touch(_ id: String) throws(SessionStoreError) {
        let seen = Date(timeIntervalSince1970: now().timeIntervalSince1970.rounded(.down))
        _ = try modify(id) { $0.lastSeen = seen }
    }

    private func modify(_ id: String, _ change: @escaping (inout Session) -> Void) throws(SessionStoreError) -> Session {
        // A pending login another process has approved or revoked is changed in its file.
        try reloadIfChanged()
        if sessions[id] == nil, var session = session(id) {
            change(&session)
            pending[id] = nil
            if session.status == .pending {
                pending[id] = session
                try pendingChanged()
            } else {
                // Approved or revoked: it moves into `sessions.json`, which wins over `pending.json`;
                // the server drops it from there at its next write.
                try update { $0[id] = session }
            }
            return session
        }
        var result: Session?
        try update { sessions in
            guard var session = sessions[id] else { return }
            change(&session)
            sessions[id] = session
            result = session
        }
        guard let result else { throw .notFound(id) }
        return result
    }

    /// Locked read-modify-write of the file, so concurrent processes never lose updates.
    private func update(_ change: (inout [String: Session]) -> Void) throws(SessionStoreError) {
        let directory = directory
        let current = now()
        do {
            try directory.withLock(Self.fileName) { () throws(StateFileError) in
                var latest: [String: Session]
                do {
                    latest = try Self.load(directory).sessions
                } catch {
                    throw StateFileError(path: directory.filePath(Self.fileName), reason: "\(error)")
                }
                change(&latest)
                // Expired pending sessions go at once: nobody approved them in time.
                latest = latest.filter {
                    $0.value.status == .pending ? $0.value.expires > current : $0.value.expires.addingTimeInterval(Self.retention) > current
                }
                let ordered = latest.values.sorted { ($0.created, $0.id) < ($1.created, $1.id) }
                guard let bytes = Self.encode(ordered) else {
                    throw StateFileError(path: directory.filePath(Self.fileName), reason: "cannot encode sessions")
                }
                try directory.write(Self.fileName, bytes: bytes)
                fileWrites.sessions += 1
                sessions = latest
                fingerprint = directory.fingerprint(Self.fileName)
                settlePending()
            }
        } catch {
            throw .storage(error)
        }
    }

    private static func load(_ directory: StateDirectory) throws(SessionStoreError) -> (sessions: [String: Session], fingerprint: String?) {
        let fingerprint = directory.fingerprint(fileName)
        let bytes: [UInt8]?
        do {
            bytes = try directory.read(fileName)
        } catch {
            throw .storage(error)
        }
        guard let bytes else { return ([:], fingerprint) }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let file = try? decoder.decode(SessionFile.self, from: Data(bytes)) else {
            throw .corrupt(path: directory.filePath(fileName))
        }
        return (Dictionary(file.sessions.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last }), fingerprint)
    }
}

extension SessionStore {
    /// Drops the pending logins `sessions.json` now holds (approved or revoked, here or by the CLI).
    private func settlePending() {
        let settled = pending.keys.filter { sessions[$0] != nil }
        guard !settled.isEmpty else { return }
        for id in settled { pending[id] = nil }
        pendingDirty = true
    }

    private func pendingChanged() throws(SessionStoreError) {
        pendingDirty = true
        try flushPendingIfDue()
    }

    /// Writes `pending.json` if pending logins changed and it was last written at least
    /// `pendingWriteInterval` ago. The server calls it on every session poll (`reloadIfChanged`).
    package func flushPendingIfDue() throws(SessionStoreError) {
        guard pendingDirty else { return }
        let current = now()
        if let last = lastPendingWrite, current >= last, current.timeIntervalSince(last) < Self.pendingWriteInterval { return }
        pending = pending.filter { $0.value.expires > current }
        let ordered = pending.values.sorted { ($0.created, $0.id) < ($1.created, $1.id) }
        let directory = directory
        do throws(StateFileError) {
            guard let bytes = Self.encode(ordered) else {
                throw StateFileError(path: directory.filePath(Self.pendingFileName), reason: "cannot encode sessions")
            }
            try directory.withLock(Self.pendingFileName) { () throws(StateFileError) in
                try directory.write(Self.pendingFileName, bytes: bytes)
            }
        } catch {
            throw .storage(error)
        }
        fileWrites.pending += 1
        pendingDirty = false
        lastPendingWrite = current
        pendingFingerprint = directory.fingerprint(Self.pendingFileName)
    }

    static func encode(_ sessions: [Session]) -> [UInt8]? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return try? Array(encoder.encode(SessionFile(sessions: sessions)))
    }

    /// `pending.json`'s sessions (only pending ones). Unlike `sessions.json`, an unreadable or
    /// damaged file is not an error: it only holds logins nobody approved yet, which log in again,
    /// and the server replaces it at the next login.
    private static func loadPending(_ directory: StateDirectory) -> (sessions: [String: Session], fingerprint: String?) {
        let fingerprint = directory.fingerprint(pendingFileName)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let bytes = try? directory.read(pendingFileName), let file = try? decoder.decode(SessionFile.self, from: Data(bytes)) else {
            return ([:], fingerprint)
        }
        let sessions = file.sessions.filter { $0.status == .pending }
        return (Dictionary(sessions.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last }), fingerprint)
    }
}

/// The file format; versioned so it can evolve.
struct SessionFile: Codable {
    var version = 1
    var sessions: [Session]
}
