import Foundation
import Testing

@testable import AutomergeCore

/// Locates `../shared/fixtures/automerge` beside the package. Tests that need it are
/// disabled (with a message) when it is absent, as on a user's fresh clone.
enum Fixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let automerge = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures/automerge")
    static let available = FileManager.default.fileExists(atPath: automerge.appendingPathComponent("README.md").path)
    static let skipMessage: Comment = "../shared/fixtures is absent: fixture tests skipped"

    static func url(_ path: String) -> URL { automerge.appendingPathComponent(path) }

    static func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url(path))) }

    static func json(_ path: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url(path)))
        guard let dictionary = object as? [String: Any] else { throw FixtureError.notAnObject(path) }
        return dictionary
    }

    static func files(in folder: String, suffix: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url(folder).path)) ?? []
        return names.filter { $0.hasSuffix(suffix) }.sorted().map { folder + "/" + $0 }
    }

    enum FixtureError: Error { case notAnObject(String) }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test only when the shared fixtures are present.
    static var needsFixtures: ConditionTrait { .enabled(if: Fixtures.available, Fixtures.skipMessage) }
}
