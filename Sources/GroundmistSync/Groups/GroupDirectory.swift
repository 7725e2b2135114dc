import ATProto
import Foundation

/// Where a lexicon group's repo lives: `DATA_DIR/<segments of the group joined by '/'>`, the
/// original server's layout (`xyz.groundmist.library` → `DATA_DIR/xyz/groundmist/library`); no
/// group means the repo at the root of `DATA_DIR` (the local development mode).
///
/// The group is validated as a `NamespacePrefix` (the server's rule, lower-cased), so it can never
/// name a path outside the data directory.
enum GroupDirectory {
    struct InvalidGroup: Error, CustomStringConvertible {
        let group: String
        let reason: String
        var description: String {
            "invalid group '\(group)': \(reason) (expected a namespace such as xyz.groundmist.library)"
        }
    }

    static func directory(dataDirectory: String, group: String?) throws(InvalidGroup) -> URL {
        let root = URL(fileURLWithPath: dataDirectory, isDirectory: true)
        guard let group else { return root }
        let prefix: NamespacePrefix
        do {
            prefix = try NamespacePrefix(group)
        } catch {
            throw InvalidGroup(group: group, reason: error.reason)
        }
        return prefix.segments.reduce(root) { $0.appendingPathComponent($1, isDirectory: true) }
    }
}
