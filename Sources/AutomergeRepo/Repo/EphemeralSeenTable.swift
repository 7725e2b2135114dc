/// The highest ephemeral `count` seen per (sender, session), so echoes are relayed once.
///
/// Bounded and expiring: a peer that invents a new session id per message could otherwise grow
/// it without end. Entries unseen for `lifetime` are forgotten, and past `capacity` the entries
/// seen longest ago go first. Forgetting is harmless: an echo that arrives after its entry was
/// dropped is relayed once more, and clients drop duplicates themselves. Keys are hashed with the
/// process's random seed, so an entry costs a fixed size whatever the ids' length.
struct EphemeralSeenTable: Sendable {
    /// 10,000 sessions: far more than one person's devices and tabs have open.
    static let defaultCapacity = 10_000
    /// Echoes come back within milliseconds; a session quiet for five minutes is gone.
    static let defaultLifetime: Duration = .seconds(300)

    let capacity: Int
    let lifetime: Duration
    private var entries: [Int: (count: UInt64, lastSeen: ContinuousClock.Instant)] = [:]

    init(capacity: Int = defaultCapacity, lifetime: Duration = defaultLifetime) {
        self.capacity = max(1, capacity)
        self.lifetime = lifetime
    }

    var count: Int { entries.count }

    /// Records `count` for the session and says whether it is new (higher than any seen).
    mutating func isNew(sender: String, session: String, count: UInt64, now: ContinuousClock.Instant = .now) -> Bool {
        var hasher = Hasher()
        hasher.combine(sender)
        hasher.combine(session)
        let key = hasher.finalize()
        if let entry = entries[key], entry.lastSeen.duration(to: now) < lifetime, count <= entry.count { return false }
        entries[key] = (count, now)
        if entries.count > capacity { prune(now: now) }
        return true
    }

    /// Drops expired entries, then the oldest until a quarter of the capacity is free, so pruning
    /// runs once per many insertions.
    private mutating func prune(now: ContinuousClock.Instant) {
        entries = entries.filter { $0.value.lastSeen.duration(to: now) < lifetime }
        let target = capacity - capacity / 4
        guard entries.count > target else { return }
        let oldest = entries.sorted { $0.value.lastSeen < $1.value.lastSeen }.prefix(entries.count - target)
        for (key, _) in oldest { entries[key] = nil }
    }
}
