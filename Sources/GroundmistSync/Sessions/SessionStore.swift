import Foundation

/// Why a session command failed.
public enum SessionStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(String)
    case storage(StateFileError)
    case corrupt(path: String)

    public var description: String {
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
public actor SessionStore {
    static let fileName = "sessions.json"
    /// Expired or revoked sessions are dropped this long after they stopped mattering.
    static let retention: TimeInterval = 7 * 24 * 3600
    /// How long a login may wait for `sessions approve`. Unapproved logins cost the owner nothing
    /// to ignore, so they go away on their own (and are not kept for `retention`).
    public static let pendingLifetime: TimeInterval = 24 * 3600
    /// At most this many pending sessions: anyone with a DPoP key can create one, so one more
    /// evicts an old one instead of growing the file without limit — from the address holding the
    /// most, so a flood from one address evicts only its own.
    public static let maximumPending = 20
    /// At most this many pending sessions per source address (an IPv6 /64 counts as one address):
    /// a fourth from the same address evicts that address's oldest, never another's.
    public static let maximumPendingPerAddress = 3
    /// A pending session's approval window is pushed back by repeated logins only in steps of this.
    static let pendingRewriteInterval: TimeInterval = 3600

    public let directory: StateDirectory
    private var sessions: [String: Session] = [:]
    private var fingerprint: String?
    private let now: @Sendable () -> Date

    public init(dataDirectory: String, now: @escaping @Sendable () -> Date = { Date() }) throws(SessionStoreError) {
        directory = StateDirectory(dataDirectory: dataDirectory)
        self.now = now
        let loaded = try Self.load(directory)
        sessions = loaded.sessions
        fingerprint = loaded.fingerprint
    }

    /// Every session, oldest first.
    public func all() -> [Session] {
        sessions.values.sorted { ($0.created, $0.id) < ($1.created, $1.id) }
    }

    public func session(_ id: String) -> Session? { sessions[id] }

    /// Re-reads the file if another process changed it; returns true when it did.
    @discardableResult
    public func reloadIfChanged() throws(SessionStoreError) -> Bool {
        guard directory.fingerprint(Self.fileName) != fingerprint else { return false }
        let loaded = try Self.load(directory)
        sessions = loaded.sessions
        fingerprint = loaded.fingerprint
        return true
    }

    /// Creates and persists a session. Client-supplied labels are sanitised (`Session.sanitized`);
    /// a pending session lives at most `pendingLifetime` and may evict older pending ones
    /// (`createReportingEvictions`).
    public func create(
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
    public func createReportingEvictions(
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
        var evicted: [Session] = []
        try update { sessions in
            if status == .pending {
                evicted = Self.makeRoom(for: session, in: &sessions)
            }
            sessions[session.id] = session
        }
        return (session, evicted)
    }

    /// Removes the pending sessions that must go before `newcomer` is added; returns them.
    private static func makeRoom(for newcomer: Session, in sessions: inout [String: Session]) -> [Session] {
        var evicted: [Session] = []
        func pendingByAge() -> [Session] {
            sessions.values.filter { $0.status == .pending }.sorted { ($0.created, $0.id) < ($1.created, $1.id) }
        }
        let address = Session.addressKey(newcomer.remoteAddress)
        if let address {
            let own = pendingByAge().filter { Session.addressKey($0.remoteAddress) == address }
            for old in own.prefix(max(0, own.count - maximumPendingPerAddress + 1)) {
                sessions[old.id] = nil
                evicted.append(old)
            }
        }
        while true {
            let pending = pendingByAge()
            guard pending.count >= maximumPending else { break }
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
    public func reusable(keyThumbprint: String, group: String) -> Session? {
        let current = now()
        return sessions.values.first {
            $0.method == .dpop && $0.keyThumbprint == keyThumbprint && $0.group == group && $0.status != .revoked && $0.expires > current
        }
    }

    /// Extends a session to a newly issued token's expiry (a pending one by `pendingLifetime` at
    /// most), and records what a repeated login submitted; nil leaves a field as it was.
    public func extend(
        _ id: String,
        until expires: Date,
        rootDocUrl: String? = nil,
        userAgent: String? = nil,
        remoteAddress: String? = nil
    ) throws(SessionStoreError) -> Session {
        let current = now()
        // A repeated pending login that changes nothing but moves its expiry by less than an hour
        // is not written: strangers' reloads cost no file rewrite.
        if let existing = sessions[id], existing.status == .pending,
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
    public func clearRootDocUrl(_ id: String) throws(SessionStoreError) {
        _ = try modify(id) { $0.rootDocUrl = nil }
    }

    public func setStatus(_ id: String, _ status: Session.Status) throws(SessionStoreError) -> Session {
        try modify(id) { $0.status = status }
    }

    /// Records a successful connection.
    public func touch(_ id: String) throws(SessionStoreError) {
        let seen = Date(timeIntervalSince1970: now().timeIntervalSince1970.rounded(.down))
        _ = try modify(id) { $0.lastSeen = seen }
    }

    private func modify(_ id: String, _ change: @escaping (inout Session) -> Void) throws(SessionStoreError) -> Session {
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
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                encoder.dateEncodingStrategy = .iso8601
                let ordered = latest.values.sorted { ($0.created, $0.id) < ($1.created, $1.id) }
                let bytes: [UInt8]
                do {
                    bytes = Array(try encoder.encode(SessionFile(sessions: ordered)))
                } catch {
                    throw StateFileError(path: directory.filePath(Self.fileName), reason: "cannot encode sessions")
                }
                try directory.write(Self.fileName, bytes: bytes)
                sessions = latest
                fingerprint = directory.fingerprint(Self.fileName)
            }
        } catch let error as StateFileError {
            throw .storage(error)
        } catch {
            throw .storage(StateFileError(path: directory.filePath(Self.fileName), reason: "\(error)"))
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

/// The file format; versioned so it can evolve.
struct SessionFile: Codable {
    var version = 1
    var sessions: [Session]
}
