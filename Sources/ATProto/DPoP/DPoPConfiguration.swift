/// Policy for DPoP proofs (docs/auth.md §4, constants in §10).
package struct DPoPConfiguration: Sendable {
    /// The server's configured public origin, e.g. `https://sync.example.com`; `htu` is built from it,
    /// never from `Host` or `X-Forwarded-*` headers.
    package var publicURL: String
    /// Oldest accepted `iat`, in seconds before now.
    package var maximumAge: Double = 300
    /// Latest accepted `iat`, in seconds after now.
    package var maximumFutureSkew: Double = 60
    /// Refuse an `htu` carrying a query or fragment instead of ignoring them.
    package var rejectQueryOrFragment = false
    /// How long a (thumbprint, jti) pair stays in the replay cache; must exceed the acceptance window.
    package var replayLifetime: Double = 360

    package init(publicURL: String) {
        self.publicURL = publicURL
    }
}
