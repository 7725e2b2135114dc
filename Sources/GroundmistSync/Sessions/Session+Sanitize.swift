import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension Session {
    /// The longest client-supplied label kept (client id, User-Agent, address).
    package static let maximumLabelLength = 200

    /// Client-supplied text made safe to store, log and print: only printable ASCII, every other
    /// character replaced by `?`, at most 200 characters. Without this, a login could put ANSI
    /// escapes or line breaks in its client id and fake lines in `sessions list` or the log.
    package static func sanitized(_ text: String?) -> String? {
        guard let text else { return nil }
        var result = ""
        for scalar in text.unicodeScalars.prefix(maximumLabelLength) {
            result.unicodeScalars.append((0x20...0x7E).contains(scalar.value) ? scalar : "?")
        }
        return result
    }
}

extension Session {
    /// What counts as one source address for the pending-login limits: an IPv4 address, an IPv6
    /// /64 (one host usually owns the whole prefix), or the recorded text itself; nil when unknown.
    package static func addressKey(_ address: String?) -> String? {
        guard let address, !address.isEmpty else { return nil }
        // 16 bytes for inet_pton's in6_addr; an array needs no C struct initializer.
        var bytes = [UInt8](repeating: 0, count: 16)
        var host = address
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if inet_pton(AF_INET6, host, &bytes) == 1 {
            // IPv4-mapped addresses are their IPv4 address.
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
                return bytes[12..<16].map(String.init).joined(separator: ".")
            }
            return bytes[0..<8].map { String(format: "%02x", $0) }.joined() + "::/64"
        }
        return address.lowercased()
    }
}
