/// Shared rules for hostname-like segments (handles, NSID authorities, namespace prefixes).
enum DomainSegments {
    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLetter(byte) || isDigit(byte)
    }

    static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// 1–63 characters of `[a-zA-Z0-9-]`, no leading or trailing hyphen; nil when valid.
    static func problem(with segment: Substring.UTF8View) -> String? {
        guard !segment.isEmpty else { return "empty segment" }
        guard segment.count <= 63 else { return "segment longer than 63 characters" }
        guard segment.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") }) else {
            return "segment contains characters outside a-z, 0-9 and '-'"
        }
        guard segment.first != UInt8(ascii: "-"), segment.last != UInt8(ascii: "-") else {
            return "segment starts or ends with '-'"
        }
        return nil
    }
}
