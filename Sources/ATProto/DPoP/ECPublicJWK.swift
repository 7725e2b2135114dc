package import Crypto

/// A public P-256 JWK from a DPoP proof header, with its RFC 7638 thumbprint.
package struct ECPublicJWK: Sendable, Equatable {
    package let crv: String
    package let x: String
    package let y: String
    package let key: P256.Signing.PublicKey

    package enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case notObject
        case containsPrivateKey
        case unsupportedKeyType
        case invalidCoordinates
        case notOnCurve

        package var description: String {
            switch self {
            case .notObject: "jwk is not a JSON object"
            case .containsPrivateKey: "jwk contains private key material"
            case .unsupportedKeyType: "jwk must be an EC P-256 key"
            case .invalidCoordinates: "jwk x and y must be 32-byte base64url values"
            case .notOnCurve: "jwk point is not on P-256"
            }
        }
    }

    /// Parses a P-256 public JWK, refusing private members (`d`, and the symmetric/RSA ones).
    package init(json value: JSONValue?) throws(ParseError) {
        guard let object = value?.objectValue else { throw .notObject }
        for privateMember in ["d", "k", "p", "q", "dp", "dq", "qi", "oth"] where object[privateMember] != nil {
            throw .containsPrivateKey
        }
        guard object["kty"] == .string("EC"), object["crv"] == .string("P-256") else { throw .unsupportedKeyType }
        guard let x = object["x"]?.stringValue, let y = object["y"]?.stringValue,
            let xBytes = Base64URL.decode(x), let yBytes = Base64URL.decode(y),
            xBytes.count == 32, yBytes.count == 32
        else { throw .invalidCoordinates }
        do {
            key = try P256.Signing.PublicKey(x963Representation: [4] + xBytes + yBytes)
        } catch {
            throw .notOnCurve
        }
        crv = "P-256"
        self.x = x
        self.y = y
    }

    package static func == (lhs: ECPublicJWK, rhs: ECPublicJWK) -> Bool {
        lhs.crv == rhs.crv && lhs.x == rhs.x && lhs.y == rhs.y
    }

    /// RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order, no whitespace.
    package var thumbprint: String {
        JWKThumbprint.ec(crv: crv, x: x, y: y)
    }
}

/// RFC 7638 JWK thumbprints.
package enum JWKThumbprint {
    /// For EC keys: `{"crv":…,"kty":"EC","x":…,"y":…}`. The inputs are base64url/curve names, so no JSON escaping is needed.
    package static func ec(crv: String, x: String, y: String) -> String {
        hash("{\"crv\":\"\(crv)\",\"kty\":\"EC\",\"x\":\"\(x)\",\"y\":\"\(y)\"}")
    }

    /// For RSA keys: `{"e":…,"kty":"RSA","n":…}`.
    package static func rsa(e: String, n: String) -> String {
        hash("{\"e\":\"\(e)\",\"kty\":\"RSA\",\"n\":\"\(n)\"}")
    }

    private static func hash(_ input: String) -> String {
        Base64URL.encode(SHA256.hash(data: Array(input.utf8)))
    }
}
