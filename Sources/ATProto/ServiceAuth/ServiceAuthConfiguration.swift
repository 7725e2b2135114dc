/// Policy for accepting service-auth JWTs (docs/auth.md §3.1, constants in §10).
public struct ServiceAuthConfiguration: Sendable {
    /// The only account accepted as `iss`.
    public var ownerDID: DID
    /// This server's DID, e.g. `did:web:sync.example.com`.
    public var serviceDID: DID
    /// The fragment of the accepted audience `serviceDID#serviceID`.
    public var serviceID: String
    /// Also accept the bare `serviceDID` as `aud` (what PDS proxying sends today).
    public var acceptBareAudience: Bool = true
    /// Refuse high-S signatures (atproto rule); false mirrors the reference verifier.
    public var strictLowS: Bool = true
    public var expirationLeeway: Double = 30
    public var maximumFutureIssuedAt: Double = 60
    public var maximumLifetime: Double = 300
    /// Refuse tokens issued before this time (e.g. process start − 5 s), since the replay cache is not persisted.
    public var notIssuedBefore: Double?
    public var maximumTokenLength: Int = CompactJWS.defaultMaximumLength

    public init(ownerDID: DID, serviceDID: DID, serviceID: String) {
        self.ownerDID = ownerDID
        self.serviceDID = serviceDID
        self.serviceID = serviceID
    }

    /// The audiences accepted under this configuration.
    public var acceptedAudiences: [String] {
        let full = serviceDID.string + "#" + serviceID
        return acceptBareAudience ? [full, serviceDID.string] : [full]
    }
}
