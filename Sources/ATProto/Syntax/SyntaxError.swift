/// Why an identifier (DID, handle, NSID, namespace prefix) was refused.
public struct SyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case did = "DID"
        case handle = "handle"
        case nsid = "NSID"
        case namespacePrefix = "namespace prefix"
    }

    public let kind: Kind
    public let reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public var description: String { "invalid \(kind.rawValue): \(reason)" }
}
