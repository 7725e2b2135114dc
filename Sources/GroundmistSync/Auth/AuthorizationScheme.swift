/// The scheme of a login's `Authorization` header, which picks the login path: a verified ATProto
/// service-auth token (`Bearer`) or the DPoP login of today's apps (`DPoP`, docs/auth.md §5).
enum AuthorizationScheme: Sendable, Equatable {
    case bearer
    case dpop

    /// The scheme of `header` (case-insensitive, up to the first space); nil for any other scheme.
    init?(header: String) {
        switch header.prefix(while: { $0 != " " }).lowercased() {
        case "bearer": self = .bearer
        case "dpop": self = .dpop
        default: return nil
        }
    }
}
