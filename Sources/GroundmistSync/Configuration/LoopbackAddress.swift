#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Decides whether a bind host is reachable only from this machine: the whole risk of running
/// without authentication hangs on this answer, so anything unrecognised counts as non-loopback.
package enum LoopbackAddress {
    package static func isLoopback(_ host: String) -> Bool {
        var host = host.lowercased()
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" { return true }
        var ipv4 = in_addr()
        if inet_pton(AF_INET, host, &ipv4) == 1 {
            // s_addr is in network byte order; the first octet is the lowest-addressed byte.
            let firstOctet = withUnsafeBytes(of: &ipv4) { $0[0] }
            return firstOctet == 127
        }
        var ipv6 = in6_addr()
        if inet_pton(AF_INET6, host, &ipv6) == 1 {
            let bytes = withUnsafeBytes(of: &ipv6) { Array($0) }
            if bytes == Array(repeating: 0, count: 15) + [1] { return true }
            // IPv4-mapped loopback, ::ffff:127.x.x.x
            return bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff && bytes[12] == 127
        }
        return false
    }
}
