package import AutomergeRepo
import Foundation

/// The root document of each group (`rootDocUrl`), persisted in `DATA_DIR/.groundmist/roots.json`.
///
/// The first URL submitted for a group wins and is returned to every later caller, so all of an
/// owner's devices converge on one root (the original kept this map in memory, keyed by client).
package actor RootDocumentRegistry {
    static let fileName = "roots.json"
    package let directory: StateDirectory
    private var roots: [String: String]

    package init(dataDirectory: String) throws(StateFileError) {
        directory = StateDirectory(dataDirectory: dataDirectory)
        roots = try Self.load(directory)
    }

    package func root(of group: String) -> AutomergeURL? {
        roots[group].flatMap { try? AutomergeURL($0) }
    }

    /// Stores `url` unless the group already has a root; returns the group's root either way.
    package func register(_ url: AutomergeURL, for group: String) throws(StateFileError) -> AutomergeURL {
        let directory = directory
        let candidate = url.description
        var winner = candidate
        try directory.withLock(Self.fileName) { () throws(StateFileError) in
            var latest = try Self.load(directory)
            if let existing = latest[group], (try? AutomergeURL(existing)) != nil {
                winner = existing
            } else {
                latest[group] = candidate
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                guard let data = try? encoder.encode(latest) else {
                    throw StateFileError(path: directory.filePath(Self.fileName), reason: "cannot encode the root documents")
                }
                try directory.write(Self.fileName, bytes: Array(data))
            }
            roots = latest
            roots[group] = winner
        }
        return (try? AutomergeURL(winner)) ?? url
    }

    private static func load(_ directory: StateDirectory) throws(StateFileError) -> [String: String] {
        guard let bytes = try directory.read(fileName) else { return [:] }
        guard let roots = try? JSONDecoder().decode([String: String].self, from: Data(bytes)) else {
            throw StateFileError(path: directory.filePath(fileName), reason: "not a JSON object of group → automerge URL")
        }
        return roots
    }
}
