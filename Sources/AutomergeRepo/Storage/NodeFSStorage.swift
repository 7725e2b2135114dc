import Foundation

/// A `StorageAdapter` over a directory in the NodeFS layout (docs/storage.md §1), so the JS reference server's data
/// directory can be used as is, and the reverse.
///
/// Unlike NodeFS, which writes files in place, every write is crash-safe: the bytes go to a new file in
/// `<root>/.tmp/`, are `fsync`ed, `rename`d over the destination and the destination directory is
/// `fsync`ed, all before `save` returns. A crash at any point leaves either the old file or the new one,
/// never a torn one, and at worst a stray file in `.tmp/`, which is removed on the next start.
/// `.tmp` cannot collide with a key: a key's first path segment is always exactly 2 characters.
///
/// There is no cache (NodeFS keeps one that is never evicted): the directory is the only truth. Like
/// NodeFS, a single writer per directory is assumed; there is no locking.
///
/// The calls block the actor's thread; documents are small and writes are rare compared with syncs.
public actor NodeFSStorage: StorageAdapter {
    /// The folder for in-flight writes, directly below the root and outside every key's path.
    public static let temporaryFolderName = ".tmp"

    public nonisolated let root: URL
    private let rootPath: String
    private let temporaryPath: String
    private let fileSystem: any FileSystem
    private var cachedStorageId: String?

    /// Opens (creating if needed) a storage directory and removes temp files left by a crash.
    public init(directory: URL) throws(StorageError) {
        try self.init(directory: directory, fileSystem: PosixFileSystem())
    }

    init(directory: URL, fileSystem: any FileSystem) throws(StorageError) {
        root = directory.standardizedFileURL
        var path = root.path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        rootPath = path
        temporaryPath = path + "/" + Self.temporaryFolderName
        self.fileSystem = fileSystem
        try Self.makeDirectories(rootPath, fileSystem: fileSystem)
        if try fileSystem.makeDirectory(temporaryPath) {
            try fileSystem.syncDirectory(rootPath)
        } else {
            for name in try fileSystem.listDirectory(temporaryPath) ?? [] {
                let leftover = temporaryPath + "/" + name
                if try fileSystem.kind(leftover) != .directory { _ = try fileSystem.removeFile(leftover) }
            }
        }
    }

    // MARK: StorageAdapter

    public func load(_ key: StorageKey) throws(StorageError) -> [UInt8]? {
        let path = self.path(key.pathComponents)
        guard try fileSystem.kind(path) == .file else { return nil }
        return try fileSystem.readFile(path)
    }

    public func save(_ key: StorageKey, _ bytes: [UInt8]) throws(StorageError) {
        try writeAtomically(key.pathComponents, bytes)
    }

    public func remove(_ key: StorageKey) throws(StorageError) {
        let components = key.pathComponents
        if try fileSystem.removeFile(path(components)) {
            try fileSystem.syncDirectory(path(components.dropLast()))
        }
    }

    /// Every regular file at or below the prefix's directory whose path is a valid key. Dot-files and
    /// dot-folders (including `.tmp`), symbolic links and names that are not valid key components are
    /// skipped. Sorted by path, so results are deterministic (NodeFS returns directory-listing order).
    public func loadRange(_ prefix: StorageKey) throws(StorageError) -> [(StorageKey, [UInt8])] {
        var result: [(StorageKey, [UInt8])] = []
        for relative in try files(below: prefix.pathComponents) {
            guard let key = try? StorageKey(relativePath: relative.joined(separator: "/")),
                let bytes = try fileSystem.readFile(path(relative))
            else { continue }
            result.append((key, bytes))
        }
        return result
    }

    /// Deletes the prefix's directory recursively (or the file, if the prefix names one).
    public func removeRange(_ prefix: StorageKey) throws(StorageError) {
        let components = prefix.pathComponents
        let target = path(components)
        switch try fileSystem.kind(target) {
        case nil: return
        case .directory: try removeTree(target)
        case .file, .other: _ = try fileSystem.removeFile(target)
        }
        try fileSystem.syncDirectory(path(components.dropLast()))
    }

    // MARK: Storage id

    /// This directory's storage id: the text of `st/orage-adapter-id`, created once as a lowercase
    /// UUID v4 (36 characters, no newline), which is what the JS `StorageSubsystem.id()` writes and what
    /// the fixtures hold. The text is used verbatim, as JS does.
    public func storageId() throws(StorageError) -> String {
        if let cachedStorageId { return cachedStorageId }
        let key = StorageKey.storageAdapterId
        let id: String
        if let bytes = try load(key) {
            let text = String(decoding: bytes, as: UTF8.self)
            let location = path(key.pathComponents)
            guard Array(text.utf8) == bytes else { throw .invalidStorageId(path: location, reason: "not UTF-8") }
            // Peers use it as a file name in their own storage (`sync-state/<id>`), so it must be one.
            do throws(StorageKeyError) {
                try StorageKey.validate(text, index: 0)
            } catch {
                throw .invalidStorageId(path: location, reason: "\(error)")
            }
            id = text
        } else {
            id = UUID().uuidString.lowercased()
            try save(key, Array(id.utf8))
        }
        cachedStorageId = id
        return id
    }

    // MARK: Paths and the write path

    private func path<C: Collection>(_ components: C) -> String where C.Element == String {
        components.isEmpty ? rootPath : rootPath + "/" + components.joined(separator: "/")
    }

    /// temp file → write → fsync → close → rename → fsync of the destination directory.
    private func writeAtomically(_ components: [String], _ bytes: [UInt8]) throws(StorageError) {
        let directory = path(components.dropLast())
        try Self.makeDirectories(directory, fileSystem: fileSystem)
        try fileSystem.replaceFile(path(components), in: directory, with: bytes, temporary: temporaryPath + "/" + UUID().uuidString)
    }

    /// `mkdir -p` that also makes every new directory's entry durable by syncing its parent.
    private static func makeDirectories(_ path: String, fileSystem: any FileSystem) throws(StorageError) {
        if try fileSystem.kind(path) == .directory { return }
        let parent = (path as NSString).deletingLastPathComponent
        let hasParent = !parent.isEmpty && parent != path
        if hasParent { try makeDirectories(parent, fileSystem: fileSystem) }
        if try fileSystem.makeDirectory(path), hasParent { try fileSystem.syncDirectory(parent) }
    }

    /// Relative path components of the regular files at or below `components`.
    private func files(below components: [String]) throws(StorageError) -> [[String]] {
        switch try fileSystem.kind(path(components)) {
        case .file: return [components]
        case .directory:
            var result: [[String]] = []
            for name in (try fileSystem.listDirectory(path(components)) ?? []).sorted() where !name.hasPrefix(".") {
                result += try files(below: components + [name])
            }
            return result
        case .other, nil: return []
        }
    }

    private func removeTree(_ directory: String) throws(StorageError) {
        for name in try fileSystem.listDirectory(directory) ?? [] {
            let child = directory + "/" + name
            if try fileSystem.kind(child) == .directory {
                try removeTree(child)
            } else {
                _ = try fileSystem.removeFile(child)
            }
        }
        _ = try fileSystem.removeDirectory(directory)
    }
}
