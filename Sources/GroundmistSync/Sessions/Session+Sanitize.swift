extension Session {
    /// The longest client-supplied label kept (client id, User-Agent, address).
    public static let maximumLabelLength = 200

    /// Client-supplied text made safe to store, log and print: only printable ASCII, every other
    /// character replaced by `?`, at most 200 characters. Without this, a login could put ANSI
    /// escapes or line breaks in its client id and fake lines in `sessions list` or the log.
    public static func sanitized(_ text: String?) -> String? {
        guard let text else { return nil }
        var result = ""
        for scalar in text.unicodeScalars.prefix(maximumLabelLength) {
            result.unicodeScalars.append((0x20...0x7E).contains(scalar.value) ? scalar : "?")
        }
        return result
    }
}
