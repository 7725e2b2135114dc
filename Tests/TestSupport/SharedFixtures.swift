package import Foundation
package import Testing

/// The golden data made with the reference implementations, at `../shared/fixtures` beside the
/// package. It is not part of the repository: tests that need it are skipped, with a message, on a
/// fresh clone (`.needsSharedFixtures(...)`).
package enum SharedFixtures {
    /// The package root: this file is `Tests/TestSupport/SharedFixtures.swift`.
    package static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // TestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    /// `../shared/fixtures`.
    package static let root: URL = packageRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/fixtures", isDirectory: true)

    /// One fixture folder, e.g. `automerge` or `automerge/nodefs`.
    package static func folder(_ relativePath: String) -> URL {
        root.appendingPathComponent(relativePath, isDirectory: true)
    }

    /// True when `folder` holds `marker` (each fixture folder has a README manifest).
    package static func isAvailable(_ folder: String, marker: String = "README.md") -> Bool {
        FileManager.default.fileExists(atPath: Self.folder(folder).appendingPathComponent(marker).path)
    }

    /// Why a fixture test did not run.
    package static func skipMessage(_ folder: String) -> Comment {
        "../shared/fixtures/\(folder) is absent: fixture tests skipped"
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test only when `../shared/fixtures/<folder>/<marker>` exists; otherwise it is
    /// skipped with a message saying so.
    package static func needsSharedFixtures(_ folder: String, marker: String = "README.md") -> ConditionTrait {
        .enabled(if: SharedFixtures.isAvailable(folder, marker: marker), SharedFixtures.skipMessage(folder))
    }
}
