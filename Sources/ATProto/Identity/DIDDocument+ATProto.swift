extension DIDDocument {
    /// Why a DID document yields no usable atproto signing key.
    package enum SigningKeyError: Error, Equatable, Sendable, CustomStringConvertible {
        case missing
        case wrongController(String)
        case unsupportedType(String)
        case invalidKey(KeyDecodingError)

        package var description: String {
            switch self {
            case .missing: "DID document has no #atproto verification method with a publicKeyMultibase"
            case .wrongController(let controller): "#atproto key is controlled by \(controller), not by the DID itself"
            case .unsupportedType(let type): "#atproto key has unsupported type \(type)"
            case .invalidKey(let error): "#atproto key is invalid: \(error)"
            }
        }
    }

    /// The first `#atproto` (relative or absolute id) verification method's key.
    package func atprotoSigningKey() throws(SigningKeyError) -> PublicKey {
        guard let method = verificationMethods.first(where: { matches($0.id, fragment: "atproto") }),
            let multibase = method.publicKeyMultibase
        else { throw .missing }
        if let controller = method.controller, controller != id.string {
            throw .wrongController(controller)
        }
        do {
            switch method.type {
            case "Multikey":
                return try PublicKey(multikey: multibase)
            case "EcdsaSecp256k1VerificationKey2019", "EcdsaSecp256r1VerificationKey2019":
                return try PublicKey(legacyMultibase: multibase, curveType: method.type)
            default:
                throw SigningKeyError.unsupportedType(method.type)
            }
        } catch let error as SigningKeyError {
            throw error
        } catch let error as KeyDecodingError {
            throw .invalidKey(error)
        } catch {
            throw .missing
        }
    }

    /// The `#atproto_pds` endpoint, if it is a plain http(s) origin URL.
    package var pdsEndpoint: String? {
        guard
            let service = services.first(where: { matches($0.id, fragment: "atproto_pds") && $0.type == "AtprotoPersonalDataServer" }),
            let endpoint = service.serviceEndpoint,
            endpoint.hasPrefix("https://") || endpoint.hasPrefix("http://")
        else { return nil }
        return endpoint
    }

    /// The first `at://` handle claimed in `alsoKnownAs`; unverified until checked both ways.
    package var claimedHandle: Handle? {
        for entry in alsoKnownAs where entry.hasPrefix("at://") {
            return try? Handle(String(entry.dropFirst(5)))
        }
        return nil
    }

    private func matches(_ entryID: String, fragment: String) -> Bool {
        entryID == "#" + fragment || entryID == id.string + "#" + fragment
    }
}
