import Crypto

@testable import ATProto

/// Signs DPoP proofs with a fresh P-256 key, for cases the fixtures do not cover.
struct ProofMinter {
    let key = P256.Signing.PrivateKey()

    var jwkJSON: String {
        let raw = Array(key.publicKey.x963Representation)
        return #"{"kty":"EC","crv":"P-256","x":"\#(Base64URL.encode(raw[1..<33]))","y":"\#(Base64URL.encode(raw[33...]))"}"#
    }

    var thumbprint: String {
        let raw = Array(key.publicKey.x963Representation)
        return JWKThumbprint.ec(crv: "P-256", x: Base64URL.encode(raw[1..<33]), y: Base64URL.encode(raw[33...]))
    }

    func proof(claims: String) throws -> String {
        let header = #"{"typ":"dpop+jwt","alg":"ES256","jwk":\#(jwkJSON)}"#
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(claims.utf8))
        return input + "." + Base64URL.encode(try key.signature(for: Array(input.utf8)).rawRepresentation)
    }

    static func ath(_ token: String) -> String {
        Base64URL.encode(SHA256.hash(data: Array(token.utf8)))
    }
}
