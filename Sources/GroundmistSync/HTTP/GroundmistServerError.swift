/// Why the server refused to start.
package enum GroundmistServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Development mode (no `ATPROTO_DID`) on a non-loopback interface. The server does have an
    /// authenticated mode; the message says how to turn it on.
    case nonLoopbackWithoutAuthentication(host: String)
    case invalidMaxMessageSize(Int)

    package var description: String {
        switch self {
        case .nonLoopbackWithoutAuthentication(let host):
            return
                "refusing to listen on \(host): development mode (ATPROTO_DID is not set) has no authentication, "
                + "so it only listens on loopback (127.0.0.1, ::1 or localhost). Set ATPROTO_DID, "
                + "GROUNDMIST_SYNC_SECRET_KEY and PUBLIC_URL (the authenticated mode) to serve other machines, or set HOST=127.0.0.1."
        case .invalidMaxMessageSize(let size):
            return "the maximum message size must be between 1 byte and 4 GiB (got \(size))"
        }
    }
}
