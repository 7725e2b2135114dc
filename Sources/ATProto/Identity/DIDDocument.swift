/// The parts of a DID document atproto uses: signing key, PDS endpoint and claimed handle.
package struct DIDDocument: Sendable, Equatable {
    package let id: DID
    package let alsoKnownAs: [String]
    package let verificationMethods: [VerificationMethod]
    package let services: [Service]

    package struct VerificationMethod: Sendable, Equatable {
        package let id: String
        package let type: String
        package let controller: String?
        package let publicKeyMultibase: String?
    }

    package struct Service: Sendable, Equatable {
        package let id: String
        package let type: String
        package let serviceEndpoint: String?
    }

    package enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case notJSONObject
        case missingID
        case idMismatch(expected: String, found: String)
        case invalidField(String)
        case tooLarge

        package var description: String {
            switch self {
            case .notJSONObject: "DID document is not a JSON object"
            case .missingID: "DID document has no valid 'id'"
            case .idMismatch(let expected, let found): "DID document id \(found) does not match the resolved DID \(expected)"
            case .invalidField(let field): "DID document field '\(field)' has the wrong type"
            case .tooLarge: "DID document is too large"
            }
        }
    }

    package static let maximumSize = 100 * 1024

    /// Parses a DID document and checks that its `id` is the DID that was resolved.
    package init(json bytes: [UInt8], expectedDID: DID) throws(ParseError) {
        guard bytes.count <= Self.maximumSize else { throw .tooLarge }
        guard let object = JSONValue.object(from: bytes) else { throw .notJSONObject }
        guard let idString = object["id"]?.stringValue, let id = try? DID(idString) else { throw .missingID }
        guard id == expectedDID else { throw .idMismatch(expected: expectedDID.string, found: idString) }
        self.id = id
        alsoKnownAs = try Self.strings(object["alsoKnownAs"], field: "alsoKnownAs")
        verificationMethods = try Self.objects(object["verificationMethod"], field: "verificationMethod").compactMap { entry in
            guard let id = entry["id"]?.stringValue, let type = entry["type"]?.stringValue else { return nil }
            return VerificationMethod(
                id: id,
                type: type,
                controller: entry["controller"]?.stringValue,
                publicKeyMultibase: entry["publicKeyMultibase"]?.stringValue
            )
        }
        services = try Self.objects(object["service"], field: "service").compactMap { entry in
            guard let id = entry["id"]?.stringValue, let type = entry["type"]?.stringValue else { return nil }
            return Service(id: id, type: type, serviceEndpoint: entry["serviceEndpoint"]?.stringValue)
        }
    }

    package init(id: DID, alsoKnownAs: [String], verificationMethods: [VerificationMethod], services: [Service]) {
        self.id = id
        self.alsoKnownAs = alsoKnownAs
        self.verificationMethods = verificationMethods
        self.services = services
    }

    private static func strings(_ value: JSONValue?, field: String) throws(ParseError) -> [String] {
        guard let value, value != .null else { return [] }
        guard let array = value.arrayValue else { throw .invalidField(field) }
        return array.compactMap(\.stringValue)
    }

    private static func objects(_ value: JSONValue?, field: String) throws(ParseError) -> [[String: JSONValue]] {
        guard let value, value != .null else { return [] }
        guard let array = value.arrayValue else { throw .invalidField(field) }
        return array.compactMap(\.objectValue)
    }
}
