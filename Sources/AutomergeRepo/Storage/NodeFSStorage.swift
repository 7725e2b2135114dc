package import Foundation

/// A `StorageAdapter` over a directory in the NodeFS layout (docs/storage.md §1), so the JS reference server's data
/// directory can be used as is, and the reverse.
///
/// Unlike NodeFS, which writes files in place, every write is crash-safe: the bytes go to a new file in
/// `<root>/.tmp/`, which is renamed over the destination; `save` returns only once the file and its
/// directory entry are flushed. A crash at any point leaves either the old file or the new one, never a
/// torn one, and at worst a stray file in `.tmp/`, which is removed on the next start.
/// `.tmp` cannot collide with a key: a key's first path segment is always exactly 2 characters.
///
/// Writes peers wait for go through `GroupCommit` (one flush for every write of a round, across
/// documents and storage roots); compaction's writes (`saveInBackground`) and every other call run
/// straight on `BlockingIO`'s threads, never on Swift's cooperative ones.
///
/// There is no cache (NodeFS keeps one that is never evicted): the directory is the only truth. Like
/// NodeFS, a single writer per directory is assumed; there is no locking.
package actor NodeFSStorage: StorageAdapter {
    /// The folder for in-flight writes, directly below the root and outside every key's path.
    package static let temporaryFolderName = ".tmp"

    package nonisolated let root: URL
    private nonisolated let files: Files
    private let commits: GroupCommit
    private var cachedStorageId: String?

    /// Opens (creating if needed) a storage directory and removes temp files left by a crash.
    /// - Parameter commits: the group-commit coordinator its durable writes join (the process's by default).
    package init(directory: URL, commits: GroupCommit = .shared) throws(StorageError) {
        try self.init(directory: directory, fileSystem: PosixFileSystem(), commits: commits)
    }

    init(directory: URL, fileSystem: any FileSystem, commits: GroupCommit = .shared) throws(StorageError) {
        root = directory.standardizedFileURL
        var path = root.path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        files = Files(rootPath: path, temporaryPath: path + "/" + Self.temporaryFolderName, fileSystem: fileSystem)
        self.commits = commits
        try fileSystem.makeDirectories(path)
        // Before `.tmp` and any document folder is made: they are then spread over the disk.
        fileSystem.markTopOfHierarchy(path)
        if try fileSystem.makeDirectory(files.temporaryPath) {
            try fileSystem.syncDirectory(path)
        } else {
            for name in try fileSystem.listDirectory(files.temporaryPath) ?? [] {
                let leftover = files.temporaryPath + "/" + name
                if try fileSystem.kind(leftover) != .directory { _ = try fileSystem.removeFile(leftover) }
            }
        }
    }

    // MARK: StorageAdapter

    package func load(_ key: StorageKey) async throws(StorageError) -> [UInt8]? {
        let files = files
        return try await BlockingIO.run { () throws(StorageError) in try files.load(key) }
    }

    package func save(_ key: StorageKey, _ bytes: [UInt8]) async throws(StorageError) {
        let components = key.pathComponents
        _ = try await commits.commit(request(directory: files.path(components.dropLast()), target: .file(path: files.path(components)), bytes))
    }

    /// Joins the next group-commit round; appends to the same document in one round share a file.
    package func saveIncremental(_ id: DocumentId, _ bytes: [UInt8]) async throws(StorageError) -> (key: StorageKey, byteCount: Int) {
        // The round names the file (by the hash of everything appended to it); only its folder here.
        let directory = files.path(StorageKey.prefix(id, .incremental).pathComponents)
        let committed = try await commits.commit(request(directory: directory, target: .append(name: NodeFSKeyHash.incrementalName(for:)), bytes))
        let name = String(committed.path.dropFirst(directory.count + 1))
        do throws(StorageKeyError) {
            return (try StorageKey.chunk(id, .incremental, name: name), committed.byteCount)
        } catch {
            throw .invalidKey(error)
        }
    }

    /// Makes the document's incremental folder (a new document's folders are most of what its first
    /// round costs: the file system picks an inode for each). Only when rounds flush with `syncfs`:
    /// a round's flush then makes these folders durable before anything in them is acknowledged,
    /// whoever made them. (With per-file fsyncs a round syncs only the parents it made itself.)
    package func prepareDocument(_ id: DocumentId) async {
        guard await commits.mode == .fileSystem else { return }
        let files = files
        let directory = files.path(StorageKey.prefix(id, .incremental).pathComponents)
        _ = try? await BlockingIO.run { () throws(StorageError) in try files.fileSystem.makeDirectories(directory, syncParents: false) }
    }

    /// Writes and flushes the file on its own, beside the group-commit rounds rather than in one.
    package func saveInBackground(_ key: StorageKey, _ bytes: [UInt8]) async throws(StorageError) {
        let files = files
        let syncs = try await BlockingIO.run { () throws(StorageError) in try files.writeAtomically(key.pathComponents, bytes) }
        await commits.countBackgroundFsyncs(syncs)
    }

    package func remove(_ key: StorageKey) async throws(StorageError) {
        let files = files
        let syncs = try await BlockingIO.run { () throws(StorageError) in try files.remove(key.pathComponents) }
        await commits.countBackgroundFsyncs(syncs)
    }

    /// Temporary file, write, rename; no fsync and no group-commit round.
    package func saveUnflushed(_ key: StorageKey, _ bytes: [UInt8]) async throws(StorageError) {
        let files = files
        try await BlockingIO.run { () throws(StorageError) in try files.writeUnflushed(key.pathComponents, bytes) }
    }

    /// Unlinks every file, then syncs each directory that lost one, once.
    package func removeInBackground(_ keys: [StorageKey]) async throws(StorageError) {
        guard !keys.isEmpty else { return }
        let files = files
        let syncs = try await BlockingIO.run { () throws(StorageError) in try files.remove(keys.map(\.pathComponents)) }
        await commits.countBackgroundFsyncs(syncs)
    }

    /// Every regular file at or below the prefix's directory whose path is a valid key. Dot-files and
    /// dot-folders (including `.tmp`), symbolic links and names that are not valid key components are
    /// skipped. Sorted by path, so results are deterministic (NodeFS returns directory-listing order).
    package func loadRange(_ prefix: StorageKey) async throws(StorageError) -> [(StorageKey, [UInt8])] {
        let files = files
        return try await BlockingIO.run { () throws(StorageError) in try files.loadRange(prefix.pathComponents) }.map { ($0.key, $0.bytes) }
    }

    /// One trip to the I/O threads for all of them.
    package func loadRanges(_ prefixes: [StorageKey]) async throws(StorageError) -> [[(StorageKey, [UInt8])]] {
        let files = files
        let components = prefixes.map(\.pathComponents)
        return try await BlockingIO.run { () throws(StorageError) in
            var ranges: [[Files.Entry]] = []
            for prefix in components { ranges.append(try files.loadRange(prefix)) }
            return ranges
        }.map { $0.map { ($0.key, $0.bytes) } }
    }

    /// Deletes the prefix's directory recursively (or the file, if the prefix names one).
    package func removeRange(_ prefix: StorageKey) async throws(StorageError) {
        let files = files
        try await BlockingIO.run { () throws(StorageError) in try files.removeRange(prefix.pathComponents) }
    }

    // MARK: Storage id

    /// This directory's storage id: the text of `st/orage-adapter-id`, created once as a lowercase
    /// UUID v4 (36 characters, no newline), which is what the JS `StorageSubsystem.id()` writes and what
    /// the fixtures hold. The text is used verbatim, as JS does.
    package func storageId() async throws(StorageError) -> String {
        if let cachedStorageId { return cachedStorageId }
        let key = StorageKey.storageAdapterId
        let id: String
        if let bytes = try await load(key) {
            let text = String(decoding: bytes, as: UTF8.self)
            let location = files.path(key.pathComponents)
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
            try await save(key, Array(id.utf8))
        }
        if let cachedStorageId { return cachedStorageId }
        cachedStorageId = id
        return id
    }

    private func request(directory: String, target: GroupCommit.Request.Target, _ bytes: [UInt8]) -> GroupCommit.Request {
        GroupCommit.Request(
            fileSystem: files.fileSystem,
            root: files.rootPath,
            temporaryDirectory: files.temporaryPath,
            directory: directory,
            target: target,
            bytes: bytes
        )
    }
}

extension NodeFSStorage {
    /// The directory's paths and the blocking calls on them (run on `BlockingIO`'s threads).
    struct Files: Sendable {
        struct Entry: Sendable {
            var key: StorageKey
            var bytes: [UInt8]
        }

        let rootPath: String
        let temporaryPath: String
        let fileSystem: any FileSystem

        func path<C: Collection>(_ components: C) -> String where C.Element == String {
            components.isEmpty ? rootPath : rootPath + "/" + components.joined(separator: "/")
        }

        func load(_ key: StorageKey) throws(StorageError) -> [UInt8]? {
            let path = self.path(key.pathComponents)
            guard try fileSystem.kind(path) == .file else { return nil }
            return try fileSystem.readFile(path)
        }

        /// temp file → write → fsync → close → rename → fsync of the destination directory.
        /// Returns how many fsyncs it made.
        func writeAtomically(_ components: [String], _ bytes: [UInt8]) throws(StorageError) -> Int {
            let directory = path(components.dropLast())
            let syncs = try fileSystem.makeDirectories(directory)
            try fileSystem.replaceFile(path(components), in: directory, with: bytes, temporary: temporaryPath + "/" + UUID().uuidString)
            return syncs + 2
        }

        func writeUnflushed(_ components: [String], _ bytes: [UInt8]) throws(StorageError) {
            let directory = path(components.dropLast())
            try fileSystem.makeDirectories(directory, syncParents: false)
            let temporary = temporaryPath + "/" + UUID().uuidString
            let descriptor = try fileSystem.createFile(temporary, near: directory, permissions: 0o644)
            var open = true
            do throws(StorageError) {
                try fileSystem.write(descriptor, bytes, path: temporary)
                open = false
                try fileSystem.close(descriptor, path: temporary)
                try fileSystem.rename(temporary, to: path(components))
            } catch {
                if open { _ = try? fileSystem.close(descriptor, path: temporary) }
                _ = try? fileSystem.removeFile(temporary)
                throw error
            }
        }

        /// Returns how many fsyncs it made.
        func remove(_ components: [String]) throws(StorageError) -> Int {
            guard try fileSystem.removeFile(path(components)) else { return 0 }
            try fileSystem.syncDirectory(path(components.dropLast()))
            return 1
        }

        /// Returns how many fsyncs it made.
        func remove(_ keys: [[String]]) throws(StorageError) -> Int {
            var directories: [String] = []
            for components in keys where try fileSystem.removeFile(path(components)) {
                let directory = path(components.dropLast())
                if !directories.contains(directory) { directories.append(directory) }
            }
            for directory in directories { try fileSystem.syncDirectory(directory) }
            return directories.count
        }

        func loadRange(_ components: [String]) throws(StorageError) -> [Entry] {
            var result: [Entry] = []
            for relative in try files(below: components) {
                guard let key = try? StorageKey(relativePath: relative.joined(separator: "/")),
                    let bytes = try fileSystem.readFile(path(relative))
                else { continue }
                result.append(Entry(key: key, bytes: bytes))
            }
            return result
        }

        func removeRange(_ components: [String]) throws(StorageError) {
            let target = path(components)
            switch try fileSystem.kind(target) {
            case nil: return
            case .directory: try removeTree(target)
            case .file, .other: _ = try fileSystem.removeFile(target)
            }
            try fileSystem.syncDirectory(path(components.dropLast()))
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
}
