import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The reverse proxies whose `X-Forwarded-For` the server believes (`GROUNDMIST_TRUSTED_PROXIES`).
///
/// A client can put anything in `X-Forwarded-For`; only entries appended by a proxy we trust are
/// facts. Behind Caddy on the same host the peer is loopback (the default). In Docker the peer is
/// the bridge gateway or the Caddy container, so that network must be listed, e.g. `172.16.0.0/12`.
package struct TrustedProxies: Sendable, Equatable, CustomStringConvertible {
    /// One address range: the first `prefixLength` bits of `network` (4 or 16 bytes).
    package struct Range: Sendable, Equatable, CustomStringConvertible {
        package let network: [UInt8]
        package let prefixLength: Int

        package func contains(_ address: [UInt8]) -> Bool {
            guard address.count == network.count else { return false }
            var remaining = prefixLength
            for index in network.indices where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if address[index] & mask != network[index] & mask { return false }
                remaining -= bits
            }
            return true
        }

        package var description: String {
            TrustedProxies.format(network) + "/\(prefixLength)"
        }
    }

    package let ranges: [Range]

    package init(ranges: [Range]) { self.ranges = ranges }

    /// 127.0.0.0/8 and ::1: a proxy on the same machine.
    package static let loopback = TrustedProxies(ranges: [
        Range(network: [127, 0, 0, 0], prefixLength: 8),
        Range(network: Array(repeating: 0, count: 15) + [1], prefixLength: 128),
    ])

    /// Trusts nobody: `X-Forwarded-For` is ignored (the server faces the internet directly).
    package static let none = TrustedProxies(ranges: [])

    package var description: String { ranges.isEmpty ? "none" : ranges.map(\.description).joined(separator: ",") }

    /// Parses a comma-separated list of addresses and CIDR ranges (`127.0.0.1`, `10.0.0.0/8`,
    /// `fd00::/8`); `none` trusts nobody. Returns the first bad entry on failure.
    package static func parse(_ text: String) -> Result<TrustedProxies, BadEntry> {
        let entries = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if entries.count == 1, entries[0].lowercased() == "none" { return .success(.none) }
        var ranges: [Range] = []
        for entry in entries {
            let parts = entry.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2, let address = parseAddress(String(parts[0])) else { return .failure(BadEntry(entry: entry)) }
            let maximum = address.count * 8
            var prefix = maximum
            if parts.count == 2 {
                let digits = parts[1]
                guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(digits),
                    value <= maximum
                else { return .failure(BadEntry(entry: entry)) }
                prefix = value
            }
            ranges.append(Range(network: address, prefixLength: prefix))
        }
        return .success(TrustedProxies(ranges: ranges))
    }

    package struct BadEntry: Error, Equatable {
        package let entry: String
    }

    /// Whether `ip` (textual IPv4 or IPv6; IPv4-mapped IPv6 counts as IPv4) is a trusted proxy.
    package func contains(_ ip: String) -> Bool {
        guard let address = Self.parseAddress(ip) else { return false }
        let candidates = [address] + (Self.unmappedIPv4(address).map { [$0] } ?? [])
        return ranges.contains { range in candidates.contains { range.contains($0) } }
    }

    /// The client's address: walking `X-Forwarded-For` from the right (the entry the nearest proxy
    /// appended), past every trusted proxy, to the first address that is not one. The peer itself
    /// when it is not a trusted proxy, or when the header holds nothing usable.
    package func clientAddress(peer: String, forwardedFor: [String]) -> String {
        guard contains(peer) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        var client = peer
        for hop in hops.reversed() {
            // Anything that is not an address (e.g. "unknown" or a port suffix) ends the trusted chain.
            guard Self.parseAddress(hop) != nil else { break }
            client = hop
            if !contains(hop) { break }
        }
        return client
    }

    static func parseAddress(_ text: String) -> [UInt8]? {
        var text = text
        if text.hasPrefix("[") && text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        var ipv4 = in_addr()
        if inet_pton(AF_INET, text, &ipv4) == 1 { return withUnsafeBytes(of: &ipv4) { Array($0) } }
        var ipv6 = in6_addr()
        if inet_pton(AF_INET6, text, &ipv6) == 1 { return withUnsafeBytes(of: &ipv6) { Array($0) } }
        return nil
    }

    static func unmappedIPv4(_ address: [UInt8]) -> [UInt8]? {
        guard address.count == 16, address[0..<10].allSatisfy({ $0 == 0 }), address[10] == 0xFF, address[11] == 0xFF else { return nil }
        return Array(address[12..<16])
    }

    static func format(_ address: [UInt8]) -> String {
        if address.count == 4 { return address.map(String.init).joined(separator: ".") }
        var groups: [String] = []
        for index in stride(from: 0, to: address.count, by: 2) {
            groups.append(String(UInt16(address[index]) << 8 | UInt16(address[index + 1]), radix: 16))
        }
        return groups.joined(separator: ":")
    }
}
