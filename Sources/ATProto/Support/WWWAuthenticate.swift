/// Builds `WWW-Authenticate` challenges in the reference server's format (docs/auth.md §4.5).
package enum WWWAuthenticate {
    /// `Scheme k="v", k2="v2"`; parameters whose values contain `"` or `\` are dropped, as the reference does.
    package static func challenge(scheme: String, parameters: [(String, String)]) -> String {
        let rendered = parameters.filter { !$0.1.contains("\"") && !$0.1.contains("\\") }.map { "\($0.0)=\"\($0.1)\"" }
        return rendered.isEmpty ? scheme : scheme + " " + rendered.joined(separator: ", ")
    }
}
