import ATProto

/// Rate-limits new pending logins per source address (`Session.addressKey`) and in all, so
/// strangers cannot turn logins into a stream of session-file rewrites, nor crowd out the
/// owner's pending login from another address. A token bucket per address: `burst` at once, then
/// one more every `interval` seconds (`LoginLimits`). Only logins that would create a new pending session
/// are counted; the owner's approved sessions and repeated logins of one key never are.
actor PendingLoginLimiter {
    /// At most this many addresses are remembered; full buckets are forgotten first.
    static let maximumAddresses = 10_000

    /// New pending logins one address may start: `burst` at once, then one per `interval` s.
    let perAddress: LoginLimits.Rate
    /// New pending logins the whole server accepts.
    let total: LoginLimits.Rate

    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    private var buckets: [String: Bucket] = [:]
    private var global: Bucket
    private let clock: any AuthClock

    init(
        perAddress: LoginLimits.Rate = LoginLimits.default.newPendingPerAddress,
        total: LoginLimits.Rate = LoginLimits.default.newPendingTotal,
        clock: any AuthClock
    ) {
        self.perAddress = perAddress
        self.total = total
        self.clock = clock
        global = Bucket(tokens: Double(total.burst), updated: clock.now())
    }

    /// Takes one token for `address`; nil when allowed, else the seconds to wait.
    func admit(address: String?) -> Double? {
        let now = clock.now()
        let key = Session.addressKey(address) ?? "unknown"
        var bucket = Self.refilled(
            buckets[key] ?? Bucket(tokens: Double(perAddress.burst), updated: now),
            now: now,
            capacity: perAddress.burst,
            interval: perAddress.interval
        )
        global = Self.refilled(global, now: now, capacity: total.burst, interval: total.interval)
        guard bucket.tokens >= 1 else {
            buckets[key] = bucket
            return (1 - bucket.tokens) * perAddress.interval
        }
        guard global.tokens >= 1 else { return (1 - global.tokens) * total.interval }
        bucket.tokens -= 1
        global.tokens -= 1
        buckets[key] = bucket
        if buckets.count > Self.maximumAddresses { forgetFullBuckets(now: now) }
        return nil
    }

    private func forgetFullBuckets(now: Double) {
        buckets = buckets.filter {
            Self.refilled($0.value, now: now, capacity: perAddress.burst, interval: perAddress.interval).tokens
                < Double(perAddress.burst)
        }
        // Still too many (a wide flood): forget the least recently used, down to 90 % so the
        // next admissions do not sort again.
        if buckets.count > Self.maximumAddresses {
            let excess = buckets.sorted { $0.value.updated < $1.value.updated }.prefix(buckets.count - Self.maximumAddresses * 9 / 10)
            for (key, _) in excess { buckets[key] = nil }
        }
    }

    private static func refilled(_ bucket: Bucket, now: Double, capacity: Int, interval: Double) -> Bucket {
        let elapsed = max(0, now - bucket.updated)
        return Bucket(tokens: min(Double(capacity), bucket.tokens + elapsed / interval), updated: now)
    }
}
