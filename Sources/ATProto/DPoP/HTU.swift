import Foundation

/// Normalises `htu` values and request URLs (RFC 3986 §6.2.2 and §6.2.3) so they compare exactly.
package enum HTU {
    package struct Normalized: Sendable, Equatable {
        /// `scheme://host[:port]/path` without query or fragment.
        package let url: String
        /// Whether the input carried a query or fragment (dropped from `url`).
        package let hadQueryOrFragment: Bool
    }

    /// Returns nil for anything that is not an absolute http(s) URL without userinfo.
    package static func normalize(_ input: String) -> Normalized? {
        guard input.utf8.count <= 4096, input.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else { return nil }
        guard let schemeEnd = input.range(of: "://") else { return nil }
        let scheme = input[..<schemeEnd.lowerBound].lowercased()
        let defaultPort: String
        switch scheme {
        case "http": defaultPort = "80"
        case "https": defaultPort = "443"
        default: return nil
        }
        var rest = Substring(input[schemeEnd.upperBound...])
        var hadQueryOrFragment = false
        if let cut = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            rest = rest[..<cut]
            hadQueryOrFragment = true
        }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let path = rest[authorityEnd...]
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        var host = Substring(authority)
        var port: Substring?
        if let colon = authority.lastIndex(of: ":"), !authority.hasPrefix("[") || authority[..<colon].hasSuffix("]") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        }
        guard !host.isEmpty else { return nil }
        var result = scheme + "://" + normalizeEscapes(host).lowercased()
        if let port {
            guard !port.isEmpty, port.allSatisfy(\.isASCII), port.allSatisfy(\.isNumber), let number = Int(port), number <= 65535 else { return nil }
            let portString = String(number)
            if portString != defaultPort { result += ":" + portString }
        }
        result += removeDotSegments(normalizeEscapes(path.isEmpty ? "/" : path))
        return Normalized(url: result, hadQueryOrFragment: hadQueryOrFragment)
    }

    /// Upper-cases percent-escapes and decodes those of unreserved characters.
    private static func normalizeEscapes(_ input: Substring) -> String {
        var output = ""
        var index = input.startIndex
        while index < input.endIndex {
            let char = input[index]
            if char == "%", let hexEnd = input.index(index, offsetBy: 3, limitedBy: input.endIndex),
                input[input.index(after: index)..<hexEnd].allSatisfy(\.isHexDigit),
                let value = UInt8(input[input.index(after: index)..<hexEnd], radix: 16)
            {
                let scalar = Unicode.Scalar(value)
                if isUnreserved(scalar) {
                    output.unicodeScalars.append(scalar)
                } else {
                    output += "%" + input[input.index(after: index)..<hexEnd].uppercased()
                }
                index = hexEnd
            } else {
                output.append(char)
                index = input.index(after: index)
            }
        }
        return output
    }

    private static func isUnreserved(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "-", ".", "_", "~": true
        default: false
        }
    }

    /// RFC 3986 §5.2.4 on an absolute path.
    private static func removeDotSegments(_ path: String) -> String {
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        for (offset, segment) in segments.enumerated() {
            let isLast = offset == segments.count - 1
            switch segment {
            case ".":
                if isLast { output.append("") }
            case "..":
                if !output.isEmpty { output.removeLast() }
                if isLast { output.append("") }
            default:
                output.append(segment)
            }
        }
        return "/" + output.joined(separator: "/")
    }
}
