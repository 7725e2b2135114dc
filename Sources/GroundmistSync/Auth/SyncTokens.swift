package import ATProto
package import Foundation
package import JWTKit

/// Claims of a sync token: the HS256 JWT `/authenticate` returns and the WebSocket accepts.
///
/// Clients treat it as opaque (docs/auth.md §6); only this server reads it.
package struct SyncTokenClaims: JWTPayload {
    /// The owner DID.
    package var did: String
    /// The session id; the token is only as good as its session's status.
    package var sid: String
    /// The namespace prefix the token may sync.
    package var group: String
    package var iat: IssuedAtClaim
    package var exp: ExpirationClaim

    /// Expiry is checked by `SyncTokens.verify` against the injectable clock.
    package func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Why a sync token was refused; the raw value is the metric and log reason.
package enum SyncTokenError: String, Error, Sendable, Equatable, CaseIterable {
    case malformed = "token_malformed"
    case badSignature = "token_bad_signature"
    case expired = "token_expired"
    case wrongAccount = "token_wrong_account"
}

/// Mints and checks sync tokens with `GROUNDMIST_SYNC_SECRET_KEY`. A new secret invalidates every token.
package struct SyncTokens: Sendable, CustomStringConvertible, CustomReflectable {
    private let keys: JWTKeyCollection
    package let ownerDID: String
    private let clock: any AuthClock

    package init(secret: Secret, ownerDID: String, clock: any AuthClock = SystemClock()) async {
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret.bytes), digestAlgorithm: .sha256)
        self.ownerDID = ownerDID
        self.clock = clock
    }

    /// The key collection holds the secret: never printed or reflected.
    package var description: String { "SyncTokens(owner: \(ownerDID))" }
    package var customMirror: Mirror { Mirror(self, children: ["ownerDID": ownerDID], displayStyle: .struct) }

    /// - Parameter expires: the token's expiry; defaults to the session's. A pending session's token
    ///   outlives the session's short approval window, so the app keeps it once approved.
    package func mint(session: Session, expires: Date? = nil) async throws -> String {
        let claims = SyncTokenClaims(
            did: ownerDID,
            sid: session.id,
            group: session.group,
            iat: IssuedAtClaim(value: Date(timeIntervalSince1970: clock.now().rounded(.down))),
            exp: ExpirationClaim(value: expires ?? session.expires)
        )
        return try await keys.sign(claims)
    }

    /// Checks form, algorithm, signature, expiry and owner. The session status is the caller's job.
    package func verify(_ token: String) async throws(SyncTokenError) -> SyncTokenClaims {
        // jwt-kit does not pin the algorithm by itself: refuse anything but HS256 first (`none`, RS/ES confusion).
        guard let jws = try? CompactJWS(token), jws.header["alg"] == .string("HS256") else { throw .malformed }
        let claims: SyncTokenClaims
        do {
            claims = try await keys.verify(token, as: SyncTokenClaims.self)
        } catch {
            throw .badSignature
        }
        guard claims.exp.value.timeIntervalSince1970 > clock.now() else { throw .expired }
        guard claims.did == ownerDID else { throw .wrongAccount }
        return claims
    }
}
