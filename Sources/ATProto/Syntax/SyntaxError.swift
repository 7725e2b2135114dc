/// Why an identifier (DID, handle, NSID, namespace prefix) was refused.
package struct SyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    package enum Kind: String, Sendable {
        case did = "DID"
        case handle = "handle"
        case nsid = "NSID"
        case namespacePrefix = "namespace prefix"
    }

    package let kind: Kind
    package let reason: String

    package init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    package var description: String { "invalid \(kind.rawValue): \(reason)" }
}
