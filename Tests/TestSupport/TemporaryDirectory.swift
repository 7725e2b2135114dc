package import Foundation

/// A fresh directory under the system temp folder, removed by `remove()`.
package struct TemporaryDirectory: Sendable {
    package let url: URL

    package init(_ prefix: String = "groundmist-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// A writable copy of a (read-only) fixture directory.
    package static func copy(of source: URL, prefix: String = "groundmist-test") throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory(prefix)
        for name in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: directory.url.appendingPathComponent(name))
        }
        try makeWritable(directory.url)
        return directory
    }

    private static func makeWritable(_ url: URL) throws {
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        guard let enumerator = FileManager.default.enumerator(atPath: url.path) else { return }
        while let relative = enumerator.nextObject() as? String {
            let path = url.appendingPathComponent(relative).path
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            try FileManager.default.setAttributes([.posixPermissions: isDirectory.boolValue ? 0o755 : 0o644], ofItemAtPath: path)
        }
    }

    package func path(_ relative: String) -> String { url.appendingPathComponent(relative).path }

    package func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: path(relative)) }

    package func write(_ relative: String, _ bytes: [UInt8]) throws {
        let target = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: target)
    }

    package func read(_ relative: String) throws -> [UInt8] { Array(try Data(contentsOf: url.appendingPathComponent(relative))) }

    package func list(_ relative: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path(relative))) ?? []).sorted()
    }

    /// Every entry under the directory: relative path → file bytes (nil for a folder).
    package func tree() throws -> [String: [UInt8]?] {
        var result: [String: [UInt8]?] = [:]
        guard let paths = FileManager.default.subpaths(atPath: url.path) else { return result }
        for relative in paths {
            var isFolder: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: path(relative), isDirectory: &isFolder)
            result[relative] = isFolder.boolValue ? .some(nil) : .some(try read(relative))
        }
        return result
    }

    /// Every regular file below the root, as relative paths, sorted.
    package func allFiles() -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: url.path) else { return [] }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path(relative), isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(relative)
            }
        }
        return files.sorted()
    }

    package func remove() { try? FileManager.default.removeItem(at: url) }
}

/// A fresh directory named `<prefix>-<uuid>` under the system temp folder; the caller removes it.
package func temporaryDirectory(_ prefix: String) throws -> URL {
    try TemporaryDirectory(prefix).url
}

/// Runs `body` with the path of a fresh temporary directory, removed afterwards.
package func withTemporaryDirectory<T>(_ prefix: String = "groundmist-test", _ body: (String) async throws -> T) async throws -> T {
    let directory = try TemporaryDirectory(prefix)
    defer { directory.remove() }
    return try await body(directory.url.path)
}
