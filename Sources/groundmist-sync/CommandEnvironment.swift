import Foundation
import GroundmistSync

/// Settings for the offline commands (`export`, `publish`): the process environment over a `.env`
/// file in the working directory, as the server reads them, but without validating the server's
/// own settings, which these commands do not need.
struct CommandEnvironment {
    let values: [String: String]

    static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        dotEnvPath: String = ".env"
    ) throws -> CommandEnvironment {
        var merged: [String: String] = [:]
        if FileManager.default.fileExists(atPath: dotEnvPath) {
            let contents = try String(contentsOfFile: dotEnvPath, encoding: .utf8)
            merged = try DotEnv.parse(contents, path: dotEnvPath)
        }
        merged.merge(environment) { _, environmentValue in environmentValue }
        return CommandEnvironment(values: merged)
    }

    /// A non-empty value (surrounding whitespace removed).
    subscript(key: String) -> String? {
        guard let value = values[key]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }
}
