extension Handle {
    /// Top-level domains the handle spec refuses at resolution time, although the syntax allows them.
    package static let unresolvableTLDs: Set<String> = ["alt", "arpa", "example", "internal", "invalid", "local", "localhost", "onion"]

    /// False for handles under a special-use TLD (`.local`, `.arpa`, `.onion`, …), which never resolve.
    package var isResolvable: Bool {
        guard let tld = string.split(separator: ".").last else { return false }
        return !Self.unresolvableTLDs.contains(String(tld))
    }
}
