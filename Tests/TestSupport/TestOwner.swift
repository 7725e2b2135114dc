package import ATProto
package import Crypto
import Foundation

/// The owner account of the tests: a fresh P-256 key and a random did:plc, with the DID document
/// a resolver (in memory, or the fake PLC directory) serves for it.
package struct TestOwner: Sendable {
    /// Half the P-256 group order: atproto accepts only low-S signatures.
    static let halfOrder: [UInt8] = Array(
        Data(base64Encoded: "f////4AAAAB//////////95zfVbTi89CedzlYX4xkqg=") ?? Data()
    )

    package let key = P256.Signing.PrivateKey()
    package let did: DID

    package init() throws {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        let random = (0..<24).map { _ in String(alphabet[Int.random(in: 0..<32)]) }.joined()
        did = try DID("did:plc:" + random)
    }

    /// The DID document as the PLC directory serves it.
    package var documentJSON: String {
        """
        {"id":"\(did.string)","alsoKnownAs":["at://owner.test"],"verificationMethod":[{"id":"\(did.string)#atproto",\
        "type":"Multikey","controller":"\(did.string)","publicKeyMultibase":"\(PublicKey.p256(key.publicKey).multikey)"}]}
        """
    }

    package var document: DIDDocument {
        let json = """
            {"id":"\(did.string)","alsoKnownAs":["at://owner.test"],"verificationMethod":[{"id":"\(did.string)#atproto",\
            "type":"Multikey","controller":"\(did.string)","publicKeyMultibase":"\(PublicKey.p256(key.publicKey).multikey)"}],"service":[]}
            """
        // Built from constants and a generated key: parsing cannot fail.
        return (try? DIDDocument(json: Array(json.utf8), expectedDID: did))
            ?? DIDDocument(id: did, alsoKnownAs: [], verificationMethods: [], services: [])
    }

    /// An ES256 service-auth JWT with a low-S signature (atproto's rule). `lxm` defaults to the
    /// server's login method, spelled out so that a rename of it fails the tests.
    package func serviceAuthToken(
        aud: String,
        lxm: String = "xyz.groundmist.sync.authenticate",
        iss: String? = nil,
        iat: Double = Date().timeIntervalSince1970,
        lifetime: Double = 60,
        jti: String = UUID().uuidString,
        signer: P256.Signing.PrivateKey? = nil
    ) throws -> String {
        let header = #"{"alg":"ES256","typ":"JWT"}"#
        let payload =
            #"{"iss":"\#(iss ?? did.string)","aud":"\#(aud)","exp":\#(Int(iat + lifetime)),"iat":\#(Int(iat)),"lxm":"\#(lxm)","jti":"\#(jti)"}"#
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        let signingKey = signer ?? key
        while true {
            let signature = Array(try signingKey.signature(for: Array(input.utf8)).rawRepresentation)
            if !Self.halfOrder.lexicographicallyPrecedes(signature[32..<64]) {
                return input + "." + Base64URL.encode(signature)
            }
        }
    }
}

/// Plays one of today's apps: a DPoP key, a PDS access token bound to it (unsigned as far as the
/// server can tell), and proofs for each request.
package struct TestDPoPApp: Sendable {
    package let key = P256.Signing.PrivateKey()
    package let clientId = "https://library.groundmist.xyz/client-metadata.json"

    package init() {}

    package var jwk: String {
        let raw = Array(key.publicKey.x963Representation)
        return #"{"kty":"EC","crv":"P-256","x":"\#(Base64URL.encode(raw[1..<33]))","y":"\#(Base64URL.encode(raw[33...]))"}"#
    }

    package var thumbprint: String {
        let raw = Array(key.publicKey.x963Representation)
        return JWKThumbprint.ec(crv: "P-256", x: Base64URL.encode(raw[1..<33]), y: Base64URL.encode(raw[33...]))
    }

    package func accessToken(sub: String, exp: Double = Date().timeIntervalSince1970 + 3600, jkt: String? = nil) -> String {
        let header = #"{"alg":"ES256K","typ":"at+jwt"}"#
        let payload =
            #"{"iss":"https://bsky.social","sub":"\#(sub)","aud":"did:web:pds.example","exp":\#(Int(exp)),"iat":\#(Int(exp - 3600)),"client_id":"\#(clientId)","cnf":{"jkt":"\#(jkt ?? thumbprint)"}}"#
        return Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8)) + "."
            + Base64URL.encode((0..<64).map { _ in UInt8.random(in: 0...255) })
    }

    package func proof(
        htu: String,
        accessToken: String,
        nonce: String?,
        jti: String = UUID().uuidString,
        iat: Double = Date().timeIntervalSince1970
    ) throws -> String {
        let header = #"{"typ":"dpop+jwt","alg":"ES256","jwk":\#(jwk)}"#
        let ath = Base64URL.encode(SHA256.hash(data: Array(accessToken.utf8)))
        let nonceClaim = nonce.map { #","nonce":"\#($0)""# } ?? ""
        let claims = #"{"iss":"\#(clientId)","jti":"\#(jti)","htm":"POST","htu":"\#(htu)","iat":\#(Int(iat)),"ath":"\#(ath)"\#(nonceClaim)}"#
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(claims.utf8))
        return input + "." + Base64URL.encode(try key.signature(for: Array(input.utf8)).rawRepresentation)
    }
}
