/// Remembers the last warning logged for a recurring operation, so a failure that repeats every
/// second is logged once, and again only when it changes or after the operation recovers.
actor DistinctWarnings {
    private var last: String?

    /// True when `message` differs from the last one reported (and records it).
    func isNew(_ message: String) -> Bool {
        guard message != last else { return false }
        last = message
        return true
    }

    func succeeded() { last = nil }
}
