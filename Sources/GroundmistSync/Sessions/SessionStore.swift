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
    /// evicts the oldest instead of growing the file without limit.
    public static let maximumPending = 20

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
    /// a pending session lives at most `pendingLifetime` and evicts the oldest pending one beyond
    /// `maximumPending`.
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
        try update { sessions in
            if status == .pending {
                let pending = sessions.values.filter { $0.status == .pending }.sorted { ($0.created, $0.id) < ($1.created, $1.id) }
                for evicted in pending.prefix(max(0, pending.count - Self.maximumPending + 1)) {
                    sessions[evicted.id] = nil
                }
            }
            sessions[session.id] = session
        }
        return session
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
