import Foundation
import TestSupport

/// The shared golden data at `../shared/fixtures/atproto` (see `SharedFixtures`).
///
/// The folder is not part of the repository; tests that need it use `.enabled(if: Fixtures.available)`
/// and are skipped on a fresh clone.
enum Fixtures {
    static let root: URL = SharedFixtures.folder("atproto")

    static let available: Bool = SharedFixtures.isAvailable("atproto")

    /// The pinned clock every generated fixture is checked against.
    static let now: Double = 1_800_000_000

    static func data(_ relativePath: String) throws -> Data {
        try Data(contentsOf: root.appendingPathComponent(relativePath))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ relativePath: String) throws -> T {
        try JSONDecoder().decode(type, from: data(relativePath))
    }

    /// Data lines of an interop syntax file: comments and empty lines skipped, never trimmed.
    static func syntaxLines(_ name: String) throws -> [String] {
        let text = String(decoding: try data("interop/syntax/\(name)"), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }
}
