import Foundation

/// What strangers can make the server hold or do through logins: how many pending DPoP logins may
/// wait, how fast new ones may arrive, and how the owner's DID lookups are cached. Each has a
/// variable (`LoginLimits.variables`), documented in the README's "Limits on logins" table.
package struct LoginLimits: Sendable, Equatable {
    /// `burst` at once, then one more every `interval` seconds (a token bucket).
    package struct Rate: Sendable, Equatable, CustomStringConvertible {
        package var burst: Int
        package var interval: Double

        package init(burst: Int, interval: Double) {
            self.burst = burst
            self.interval = interval
        }

        /// `5/2m`: five at once, then one per two minutes. The interval takes the units of
        /// `GROUNDMIST_TOKEN_LIFETIME` (`s`, `m`, `h`, `d`, or bare seconds).
        package static func parse(_ text: String) -> Rate? {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2 else { return nil }
            let count = parts[0].trimmingCharacters(in: .whitespaces)
            guard !count.isEmpty, count.count <= 9, count.allSatisfy({ $0.isASCII && $0.isNumber }),
                let burst = Int(count), burst > 0,
                let interval = AuthenticationConfiguration.parseDuration(String(parts[1]))
            else { return nil }
            return Rate(burst: burst, interval: interval)
        }

        package var description: String { "\(burst)/\(Int(interval))s" }
    }

    /// Pending (unapproved) DPoP logins kept in all; one more evicts the oldest of the address
    /// holding the most.
    package var maximumPending: Int
    /// Pending logins kept per source address (an IPv6 /64 is one address); one more evicts that
    /// address's oldest, never another's.
    package var maximumPendingPerAddress: Int
    /// How fast one address may start new pending logins.
    package var newPendingPerAddress: Rate
    /// How fast all addresses together may start new pending logins.
    package var newPendingTotal: Rate
    /// How long a failed lookup of a DID document is remembered (seconds): forged tokens naming an
    /// unresolvable DID cost one PLC request and one warning per window.
    package var didFailureLifetime: Double
    /// DIDs remembered by the DID cache (documents and failures each); the oldest go first.
    package var didCacheEntries: Int

    package init(
        maximumPending: Int = 20,
        maximumPendingPerAddress: Int = 3,
        newPendingPerAddress: Rate = Rate(burst: 5, interval: 120),
        newPendingTotal: Rate = Rate(burst: 20, interval: 10),
        didFailureLifetime: Double = 30,
        didCacheEntries: Int = 1000
    ) {
        self.maximumPending = maximumPending
        self.maximumPendingPerAddress = maximumPendingPerAddress
        self.newPendingPerAddress = newPendingPerAddress
        self.newPendingTotal = newPendingTotal
        self.didFailureLifetime = didFailureLifetime
        self.didCacheEntries = didCacheEntries
    }

    package static let `default` = LoginLimits()

    /// The environment variables that override the defaults.
    package static let variables = (
        maximumPending: "GROUNDMIST_MAX_PENDING_LOGINS",
        maximumPendingPerAddress: "GROUNDMIST_MAX_PENDING_LOGINS_PER_ADDRESS",
        newPendingPerAddress: "GROUNDMIST_PENDING_LOGIN_RATE",
        newPendingTotal: "GROUNDMIST_PENDING_LOGIN_RATE_TOTAL",
        didFailureLifetime: "GROUNDMIST_DID_FAILURE_CACHE",
        didCacheEntries: "GROUNDMIST_DID_CACHE_SIZE"
    )

    /// Reads the overrides from `values`; a bad value becomes a problem and keeps the default.
    static func parse(_ values: [String: String], problems: inout [ConfigurationProblem]) -> LoginLimits {
        var limits = LoginLimits()
        var reader = LimitVariables(values)
        reader.count(variables.maximumPending, into: &limits.maximumPending)
        reader.count(variables.maximumPendingPerAddress, into: &limits.maximumPendingPerAddress)
        reader.rate(variables.newPendingPerAddress, into: &limits.newPendingPerAddress)
        reader.rate(variables.newPendingTotal, into: &limits.newPendingTotal)
        reader.seconds(variables.didFailureLifetime, into: &limits.didFailureLifetime)
        reader.count(variables.didCacheEntries, into: &limits.didCacheEntries)
        problems += reader.problems
        return limits
    }
}
