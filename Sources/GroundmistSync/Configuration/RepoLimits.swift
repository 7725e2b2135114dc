package import AutomergeCore
package import AutomergeRepo
import Foundation

/// Bounds of each repo's own tables that peers can fill (`GROUNDMIST_EPHEMERAL_*`), applied to
/// the development repo and to every group's repo alike.
package struct RepoLimits: Sendable, Equatable {
    /// Ephemeral sessions remembered to relay each message once; past it, those seen longest ago
    /// are forgotten (an echo of a forgotten one may be relayed once more).
    package var ephemeralSessions: Int
    /// An ephemeral session unseen this long is forgotten.
    package var ephemeralLifetime: Duration
    /// How far the compressed changes of one sync message may inflate: per change, and in all.
    package var inflation: InflationLimits

    package init(
        ephemeralSessions: Int = Repo.Configuration.defaultEphemeralSessions,
        ephemeralLifetime: Duration = Repo.Configuration.defaultEphemeralLifetime,
        inflation: InflationLimits = .syncMessage
    ) {
        self.ephemeralSessions = ephemeralSessions
        self.ephemeralLifetime = ephemeralLifetime
        self.inflation = inflation
    }

    package static let `default` = RepoLimits()

    package static let variables = (
        ephemeralSessions: "GROUNDMIST_EPHEMERAL_SESSIONS",
        ephemeralLifetime: "GROUNDMIST_EPHEMERAL_LIFETIME",
        inflatedChange: "GROUNDMIST_MAX_INFLATED_CHANGE_BYTES",
        inflatedMessage: "GROUNDMIST_MAX_INFLATED_MESSAGE_BYTES"
    )

    /// The server's repo configuration, with these limits (and the server's sync-state interval).
    package func configuration(peerId: String, sharePolicy: SharePolicy) -> Repo.Configuration {
        Repo.Configuration(
            peerId: peerId,
            sharePolicy: sharePolicy,
            syncStateInterval: Repo.Configuration.serverSyncStateInterval,
            ephemeralSessions: ephemeralSessions,
            ephemeralLifetime: ephemeralLifetime,
            inflation: inflation
        )
    }

    /// Reads the overrides from `values`; a bad value becomes a problem and keeps the default.
    static func parse(_ values: [String: String], problems: inout [ConfigurationProblem]) -> RepoLimits {
        var limits = RepoLimits()
        var reader = LimitVariables(values)
        reader.count(variables.ephemeralSessions, into: &limits.ephemeralSessions)
        reader.duration(variables.ephemeralLifetime, into: &limits.ephemeralLifetime)
        reader.count(variables.inflatedChange, into: &limits.inflation.perStream)
        reader.count(variables.inflatedMessage, into: &limits.inflation.total)
        problems += reader.problems
        return limits
    }
}
