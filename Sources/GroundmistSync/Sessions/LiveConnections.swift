import Foundation

/// The open WebSockets of each session, so revoking a session drops them at once.
package actor LiveConnections {
    private var closers: [String: [UInt64: @Sendable () -> Void]] = [:]
    private var expiries: [UInt64: (session: String, expires: Date)] = [:]
    private var nextID: UInt64 = 0

    package init() {}

    /// Registers a connection; `close` ends it. Returns the handle for `remove`.
    /// - Parameter expires: when its token expires (`closeExpired` ends it then); nil for never.
    func add(session: String, expires: Date? = nil, close: @escaping @Sendable () -> Void) -> UInt64 {
        nextID += 1
        closers[session, default: [:]][nextID] = close
        if let expires { expiries[nextID] = (session, expires) }
        return nextID
    }

    func remove(session: String, handle: UInt64) {
        expiries[handle] = nil
        closers[session]?[handle] = nil
        if closers[session]?.isEmpty == true { closers[session] = nil }
    }

    /// Sessions with at least one open connection.
    package var sessionIDs: [String] { Array(closers.keys) }

    package func count(of session: String) -> Int { closers[session]?.count ?? 0 }

    /// Closes every connection of the session.
    func closeAll(of session: String) {
        let removed = closers.removeValue(forKey: session) ?? [:]
        for (handle, close) in removed {
            expiries[handle] = nil
            close()
        }
    }

    /// Closes every connection whose token expired: a token is checked at the upgrade only, and
    /// a WebSocket may stay open for weeks. Returns how many were closed.
    @discardableResult
    func closeExpired(now: Date) -> Int {
        let expired = expiries.filter { $0.value.expires <= now }
        for (handle, entry) in expired {
            expiries[handle] = nil
            let close = closers[entry.session]?.removeValue(forKey: handle)
            if closers[entry.session]?.isEmpty == true { closers[entry.session] = nil }
            close?()
        }
        return expired.count
    }
}
