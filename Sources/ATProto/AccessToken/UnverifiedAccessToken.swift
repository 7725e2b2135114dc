/// An ATProto OAuth access token, **read but not verified**.
///
/// Decoding this proves nothing about who issued the token: its signature is not checked, and a
/// third party cannot check it (a self-hosted PDS signs with its own HMAC secret; docs/auth.md §5). Anyone
/// can write a token with any `sub`. Use it only to bind a DPoP key to a claimed account on the
/// compatibility path, where the resulting session still needs the owner's approval.
package struct UnverifiedAccessToken: Sendable, Equatable {
    /// The claimed account DID.
    package let sub: String
    package let exp: Double
    /// Thumbprint of the DPoP key the token is claimed to be bound to.
    package let cnfJKT: String?
    /// The client metadata URL the token claims.
    package let clientID: String?
    /// The claimed authorization server.
    package let iss: String?
    package let aud: String?

    package enum DecodingError: Error, Equatable, Sendable, CustomStringConvertible {
        case notJWT
        case payloadNotObject
        case missingClaim(String)

        package var description: String {
            switch self {
            case .notJWT: "access token is not a JWT"
            case .payloadNotObject: "access token payload is not a JSON object"
            case .missingClaim(let name): "access token claim \(name) is missing or has the wrong type"
            }
        }
    }

    /// Decodes the claims **without any signature check**.
    package init(decoding token: String) throws(DecodingError) {
        let jws: CompactJWS
        do {
            jws = try CompactJWS(token)
        } catch {
            throw .notJWT
        }
        guard let claims = JSONValue.object(from: jws.payload) else { throw .payloadNotObject }
        guard let sub = claims["sub"]?.stringValue else { throw .missingClaim("sub") }
        guard let exp = claims["exp"]?.numberValue, exp.isFinite else { throw .missingClaim("exp") }
        self.sub = sub
        self.exp = exp
        if let cnf = claims["cnf"] {
            guard let jkt = cnf.objectValue?["jkt"]?.stringValue else { throw .missingClaim("cnf.jkt") }
            cnfJKT = jkt
        } else {
            cnfJKT = nil
        }
        clientID = claims["client_id"]?.stringValue
        iss = claims["iss"]?.stringValue
        aud = claims["aud"]?.stringValue
    }

    /// True when the token claims binding to the DPoP key with this thumbprint. Says nothing about the issuer.
    package func isBound(toThumbprint thumbprint: String) -> Bool {
        cnfJKT == thumbprint
    }
}
