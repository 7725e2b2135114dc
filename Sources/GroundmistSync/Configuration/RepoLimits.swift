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

    package init(
        ephemeralSessions: Int = Repo.Configuration.defaultEphemeralSessions,
        ephemeralLifetime: Duration = Repo.Configuration.defaultEphemeralLifetime
    ) {
        self.ephemeralSessions = ephemeralSessions
        self.ephemeralLifetime = ephemeralLifetime
    }

    package static let `default` = RepoLimits()

    package static let variables = (
        ephemeralSessions: "GROUNDMIST_EPHEMERAL_SESSIONS",
        ephemeralLifetime: "GROUNDMIST_EPHEMERAL_LIFETIME"
    )

    /// A repo configuration with these limits.
    package func configuration(peerId: String, sharePolicy: SharePolicy) -> Repo.Configuration {
        Repo.Configuration(
            peerId: peerId,
            sharePolicy: sharePolicy,
            ephemeralSessions: ephemeralSessions,
            ephemeralLifetime: ephemeralLifetime
        )
    }

    /// Reads the overrides from `values`; a bad value becomes a problem and keeps the default.
    static func parse(_ values: [String: String], problems: inout [ConfigurationProblem]) -> RepoLimits {
        var limits = RepoLimits()
        if let text = values[variables.ephemeralSessions]?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            if let count = Int(text), count > 0 {
                limits.ephemeralSessions = count
            } else {
                problems.append(.invalidLimit(name: variables.ephemeralSessions, value: text))
            }
        }
        if let text = values[variables.ephemeralLifetime]?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            if let seconds = AuthenticationConfiguration.parseDuration(text) {
                limits.ephemeralLifetime = .milliseconds(Int64(seconds * 1000))
            } else {
                problems.append(.invalidTimeout(variable: variables.ephemeralLifetime, value: text))
            }
        }
        return limits
    }
}
