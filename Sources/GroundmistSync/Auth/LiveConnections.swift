/// The open WebSockets of each session, so revoking a session drops them at once.
public actor LiveConnections {
    private var closers: [String: [UInt64: @Sendable () -> Void]] = [:]
    private var nextID: UInt64 = 0

    public init() {}

    /// Registers a connection; `close` ends it. Returns the handle for `remove`.
    func add(session: String, close: @escaping @Sendable () -> Void) -> UInt64 {
        nextID += 1
        closers[session, default: [:]][nextID] = close
        return nextID
    }

    func remove(session: String, handle: UInt64) {
        closers[session]?[handle] = nil
        if closers[session]?.isEmpty == true { closers[session] = nil }
    }

    /// Sessions with at least one open connection.
    public var sessionIDs: [String] { Array(closers.keys) }

    public func count(of session: String) -> Int { closers[session]?.count ?? 0 }

    /// Closes every connection of the session.
    func closeAll(of session: String) {
        for close in closers.removeValue(forKey: session)?.values ?? [:].values { close() }
    }
}
