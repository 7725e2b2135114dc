/// Policy for accepting service-auth JWTs (docs/auth.md §3.1, constants in §10).
package struct ServiceAuthConfiguration: Sendable {
    /// The only account accepted as `iss`.
    package var ownerDID: DID
    /// This server's DID, e.g. `did:web:sync.example.com`.
    package var serviceDID: DID
    /// The fragment of the accepted audience `serviceDID#serviceID`.
    package var serviceID: String
    /// Also accept the bare `serviceDID` as `aud` (what PDS proxying sends today).
    package var acceptBareAudience: Bool = true
    /// Refuse high-S signatures (atproto rule); false mirrors the reference verifier.
    package var strictLowS: Bool = true
    package var expirationLeeway: Double = 30
    package var maximumFutureIssuedAt: Double = 60
    package var maximumLifetime: Double = 300
    /// Refuse tokens issued before this time (e.g. process start − 5 s), since the replay cache is not persisted.
    package var notIssuedBefore: Double?
    package var maximumTokenLength: Int = CompactJWS.defaultMaximumLength

    package init(ownerDID: DID, serviceDID: DID, serviceID: String) {
        self.ownerDID = ownerDID
        self.serviceDID = serviceDID
        self.serviceID = serviceID
    }

    /// The audiences accepted under this configuration.
    package var acceptedAudiences: [String] {
        let full = serviceDID.string + "#" + serviceID
        return acceptBareAudience ? [full, serviceDID.string] : [full]
    }
}
