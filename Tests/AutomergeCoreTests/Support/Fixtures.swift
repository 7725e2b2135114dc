import Foundation
import TestSupport
import Testing

@testable import AutomergeCore

/// `../shared/fixtures/automerge` beside the package (see `SharedFixtures`). Tests that need it are
/// disabled (with a message) when it is absent, as on a user's fresh clone.
enum Fixtures {
    static let automerge = SharedFixtures.folder("automerge")
    static let available = SharedFixtures.isAvailable("automerge")

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
    static var needsFixtures: ConditionTrait { .needsSharedFixtures("automerge") }
}
