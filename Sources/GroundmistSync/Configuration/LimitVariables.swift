import Foundation

/// Reads limit variables the same way everywhere: an absent or blank variable keeps the default,
/// surrounding spaces are ignored, and a bad value keeps the default and becomes a problem that
/// names the variable (so every bad setting is reported at start, one line each).
struct LimitVariables {
    let values: [String: String]
    var problems: [ConfigurationProblem] = []

    init(_ values: [String: String]) { self.values = values }

    private func text(_ name: String) -> String? {
        guard let text = values[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        return text
    }

    /// A whole number above 0.
    mutating func count(_ name: String, into value: inout Int) {
        guard let text = text(name) else { return }
        guard let parsed = Int(text), parsed > 0 else { return problems.append(.invalidLimit(name: name, value: text)) }
        value = parsed
    }

    /// A duration in seconds (`AuthenticationConfiguration.parseDuration`: `30s`, `2m`, …).
    mutating func seconds(_ name: String, into value: inout Double) {
        guard let text = text(name) else { return }
        guard let parsed = AuthenticationConfiguration.parseDuration(text) else {
            return problems.append(.invalidTimeout(variable: name, value: text))
        }
        value = parsed
    }

    /// A duration, as `seconds` reads it.
    mutating func duration(_ name: String, into value: inout Duration) {
        guard text(name) != nil else { return }
        var seconds: Double = 0
        let before = problems.count
        self.seconds(name, into: &seconds)
        if problems.count == before { value = .milliseconds(Int64(seconds * 1000)) }
    }

    /// `5/2m`: a burst and a refill interval (`LoginLimits.Rate`).
    mutating func rate(_ name: String, into value: inout LoginLimits.Rate) {
        guard let text = text(name) else { return }
        guard let parsed = LoginLimits.Rate.parse(text) else { return problems.append(.invalidRate(variable: name, value: text)) }
        value = parsed
    }
}
