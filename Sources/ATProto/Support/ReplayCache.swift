/// Remembers keys until they expire, to refuse a second use of the same token or proof.
///
/// Entries are only added after a signature has been verified, so forged input cannot fill it;
/// a size cap still bounds memory if it ever is flooded.
package actor ReplayCache<Key: Hashable & Sendable> {
    private var entries: [Key: Double] = [:]
    private let clock: any AuthClock
    private let maximumEntries: Int
    private var lastSweep: Double = 0

    package init(clock: any AuthClock, maximumEntries: Int = 100_000) {
        self.clock = clock
        self.maximumEntries = maximumEntries
    }

    /// Records `key` until `expiresAt`; returns false if it is already present and unexpired.
    package func insert(_ key: Key, expiresAt: Double) -> Bool {
        let now = clock.now()
        if let existing = entries[key], existing >= now {
            return false
        }
        sweepIfNeeded(now: now)
        entries[key] = expiresAt
        return true
    }

    package func contains(_ key: Key) -> Bool {
        guard let expiry = entries[key] else { return false }
        return expiry >= clock.now()
    }

    package var count: Int { entries.count }

    private func sweepIfNeeded(now: Double) {
        guard entries.count >= maximumEntries || now - lastSweep > 60 else { return }
        lastSweep = now
        entries = entries.filter { $0.value >= now }
        if entries.count >= maximumEntries {
            // Still full of live entries: drop those closest to expiry (they are least useful).
            let sorted = entries.sorted { $0.value < $1.value }
            for (key, _) in sorted.prefix(entries.count - maximumEntries + 1) {
                entries[key] = nil
            }
        }
    }
}
