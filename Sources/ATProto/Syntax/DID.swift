/// A decentralised identifier, validated against the generic DID syntax atproto uses.
///
/// DIDs are case-sensitive and never normalised. `did:plc` and `did:web` get the extra atproto
/// restrictions (`validateATProtoMethod()`).
package struct DID: Hashable, Sendable, CustomStringConvertible, Codable {
    package let string: String

    package static let maximumLength = 2048

    package init(_ string: String) throws(SyntaxError) {
        let bytes = Array(string.utf8)
        guard bytes.count <= Self.maximumLength else { throw SyntaxError(.did, "longer than 2048 characters") }
        guard bytes.starts(with: Array("did:".utf8)) else { throw SyntaxError(.did, "must start with 'did:'") }
        let rest = bytes.dropFirst(4)
        guard let colon = rest.firstIndex(of: UInt8(ascii: ":")) else { throw SyntaxError(.did, "missing method-specific identifier") }
        let method = rest[rest.startIndex..<colon]
        guard !method.isEmpty, method.allSatisfy({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }) else {
            throw SyntaxError(.did, "method must be lower-case letters")
        }
        let identifier = rest[(colon + 1)...]
        guard let last = identifier.last else { throw SyntaxError(.did, "empty method-specific identifier") }
        guard
            identifier.allSatisfy({
                DomainSegments.isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":")
                    || $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "-")
            })
        else { throw SyntaxError(.did, "method-specific identifier has characters outside [a-zA-Z0-9._:%-]") }
        guard last != UInt8(ascii: ":"), last != UInt8(ascii: "%") else {
            throw SyntaxError(.did, "must not end with ':' or '%'")
        }
        self.string = string
    }

    /// The method name, e.g. `plc` or `web`.
    package var method: Substring {
        let afterPrefix = string.dropFirst(4)
        return afterPrefix.prefix { $0 != ":" }
    }

    /// Everything after `did:<method>:`.
    package var methodSpecificID: Substring {
        string.dropFirst(4 + method.count + 1)
    }

    package var description: String { string }

    package init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer().decode(String.self)
        try self.init(value)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(string)
    }
}
