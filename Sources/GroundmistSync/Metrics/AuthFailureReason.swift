package import ATProto

/// The `reason` label of `groundmist_auth_failures_total`: every value the server emits, and the
/// series `GroundmistMetrics` creates up front (at 0). One type for both, so they cannot drift.
package struct AuthFailureReason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    package let rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package var description: String { rawValue }

    // `/authenticate`
    package static let invalidRequest = Self(rawValue: "invalid_request")
    package static let missingCredentials = Self(rawValue: "missing_credentials")
    package static let invalidBody = Self(rawValue: "invalid_body")
    /// A DPoP login while `GROUNDMIST_LEGACY_AUTH=off`. The value keeps its old "legacy" spelling:
    /// dashboards and alerts select on it.
    package static let dpopLoginDisabled = Self(rawValue: "legacy_auth_disabled")
    package static let invalidDPoPProof = Self(rawValue: "invalid_dpop_proof")
    package static let invalidAccessToken = Self(rawValue: "invalid_access_token")
    /// A new pending DPoP login refused by the per-address or global rate limit.
    package static let rateLimited = Self(rawValue: "rate_limited")
    // WebSocket upgrade
    package static let tokenMissing = Self(rawValue: "token_missing")
    package static let sessionUnknown = Self(rawValue: "session_unknown")
    package static let sessionPending = Self(rawValue: "session_pending")
    package static let sessionRevoked = Self(rawValue: "session_revoked")
    package static let wrongGroup = Self(rawValue: "wrong_group")

    /// A refused service-auth token, by its XRPC error name in snake case (`BadJwtIss` → `bad_jwt_iss`).
    package init(_ name: ServiceAuthError.Name) { rawValue = Self.snakeCase(name.rawValue) }

    /// A refused sync token (`token_expired`, `token_bad_signature`, …).
    package init(_ error: SyncTokenError) { rawValue = error.rawValue }

    /// Every reason the server can emit, each once (service auth's `InvalidRequest` is also ours).
    package static var all: [AuthFailureReason] {
        let every: [AuthFailureReason] =
            [
                .invalidRequest, .missingCredentials, .invalidBody, .dpopLoginDisabled, .invalidDPoPProof, .invalidAccessToken,
                .rateLimited, .tokenMissing, .sessionUnknown, .sessionPending, .sessionRevoked, .wrongGroup,
            ] + ServiceAuthError.Name.allCases.map { Self($0) } + SyncTokenError.allCases.map { Self($0) }
        var seen: Set<AuthFailureReason> = []
        return every.filter { seen.insert($0).inserted }
    }

    static func snakeCase(_ name: String) -> String {
        var result = ""
        for character in name {
            if character.isUppercase && !result.isEmpty { result.append("_") }
            result.append(Character(character.lowercased()))
        }
        return result
    }
}
