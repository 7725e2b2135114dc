package import ATProto
package import Foundation

/// Where a lexicon group's repo lives: `DATA_DIR/<segments of the group joined by '/'>`, the
/// original server's layout (`xyz.groundmist.library` → `DATA_DIR/xyz/groundmist/library`); no
/// group means the repo at the root of `DATA_DIR` (the local development mode).
///
/// The one rule for the server (`GroupRepositories`) and the tools that read its data directory
/// (`export`). A group is a validated `NamespacePrefix` (lower-cased, segments without `/`, `..` or a
/// leading dot), so it can never name a path outside the data directory.
package enum GroupDirectory {
    package struct InvalidGroup: Error, CustomStringConvertible {
        package let group: String
        package let reason: String
        package var description: String {
            "invalid group '\(group)': \(reason) (expected a namespace such as xyz.groundmist.library)"
        }
    }

    /// The folder of `group` under `dataDirectory`.
    package static func url(for group: NamespacePrefix, in dataDirectory: String) -> URL {
        group.segments.reduce(URL(fileURLWithPath: dataDirectory, isDirectory: true)) {
            $0.appendingPathComponent($1, isDirectory: true)
        }
    }

    /// The folder for a group given as text (nil: the data directory itself), validated first.
    package static func directory(dataDirectory: String, group: String?) throws(InvalidGroup) -> URL {
        guard let group else { return URL(fileURLWithPath: dataDirectory, isDirectory: true) }
        let prefix: NamespacePrefix
        do {
            prefix = try NamespacePrefix(group)
        } catch {
            throw InvalidGroup(group: group, reason: error.reason)
        }
        return url(for: prefix, in: dataDirectory)
    }
}
