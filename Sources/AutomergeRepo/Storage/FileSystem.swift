#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a directory entry is, as `lstat` reports it (symbolic links are never followed).
enum FileKind: Sendable, Equatable {
    case file
    case directory
    case other
}

/// The file-system calls `NodeFSStorage` makes, one method per step of the write path, so tests can
/// make any single step fail (simulating a crash there) without touching the real disk's behaviour.
///
/// Paths are absolute and built only from validated components.
protocol FileSystem: Sendable {
    /// `mkdir`; returns false when the directory already existed.
    func makeDirectory(_ path: String) throws(StorageError) -> Bool
    /// Creates a new file exclusively (`O_CREAT | O_EXCL`) for writing, with these permission bits.
    func createFile(_ path: String, permissions: UInt16) throws(StorageError) -> Int32
    /// `createFile`, with the file's inode allocated as if it were made in `directory` (an
    /// existing directory on the same file system), where it will be renamed to.
    func createFile(_ path: String, near directory: String, permissions: UInt16) throws(StorageError) -> Int32
    /// A file with no name in `directory`, open for writing (Linux `O_TMPFILE`): it gets a name only
    /// by `link(_:to:)`, and is gone if it is closed before, or at a crash. Nil where the file system
    /// cannot make one (the caller names a temporary file instead).
    func createUnnamedFile(in directory: String, permissions: UInt16) throws(StorageError) -> Int32?
    /// Names a file made by `createUnnamedFile` (`linkat`); fails with `EEXIST` when the name is taken.
    func link(_ descriptor: Int32, to path: String) throws(StorageError)
    /// Writes all bytes, retrying short writes and `EINTR`.
    func write(_ descriptor: Int32, _ bytes: [UInt8], path: String) throws(StorageError)
    /// `fsync` of an open file.
    func sync(_ descriptor: Int32, path: String) throws(StorageError)
    func close(_ descriptor: Int32, path: String) throws(StorageError)
    /// Atomic `rename` within one file system.
    func rename(_ source: String, to destination: String) throws(StorageError)
    /// Opens a directory and `fsync`s it, making entries created, renamed or removed in it durable.
    func syncDirectory(_ path: String) throws(StorageError)
    /// Flushes everything written to the file system holding `path` (Linux `syncfs`; elsewhere a
    /// full `sync`, or `F_FULLFSYNC` of the directory on Darwin).
    func syncFileSystem(_ path: String) throws(StorageError)
    /// `unlink`; returns false when the file did not exist.
    func removeFile(_ path: String) throws(StorageError) -> Bool
    /// `rmdir` of an empty directory; returns false when it did not exist.
    func removeDirectory(_ path: String) throws(StorageError) -> Bool
    /// The whole file, or nil when it does not exist.
    func readFile(_ path: String) throws(StorageError) -> [UInt8]?
    /// Entry names (without `.`, `..` and names that are not UTF-8), or nil when the directory does not exist.
    func listDirectory(_ path: String) throws(StorageError) -> [String]?
    /// The kind of the entry at `path`, or nil when there is none.
    func kind(_ path: String) throws(StorageError) -> FileKind?
    /// Marks a directory as the top of a hierarchy, a hint to the file system to spread its
    /// subdirectories (and so their files) over its free space; best effort, silently not done
    /// where unsupported.
    func markTopOfHierarchy(_ path: String)
}

extension FileSystem {
    func markTopOfHierarchy(_ path: String) {}

    func createUnnamedFile(in directory: String, permissions: UInt16) throws(StorageError) -> Int32? { nil }

    func link(_ descriptor: Int32, to path: String) throws(StorageError) {
        throw .io(operation: "link", path: path, errno: ENOTSUP, reason: "this file system makes no unnamed files")
    }

    func createFile(_ path: String, near directory: String, permissions: UInt16) throws(StorageError) -> Int32 {
        try createFile(path, permissions: permissions)
    }
}

extension FileSystem {
    /// Writes a new file at `temporary`, syncs it and renames it over `path`, then syncs `directory`
    /// (the one holding `path`): after a crash the file is either the old one or all of `bytes`.
    /// On failure the temporary file is removed.
    func replaceFile(
        _ path: String,
        in directory: String,
        with bytes: [UInt8],
        temporary: String,
        permissions: UInt16 = 0o644
    ) throws(StorageError) {
        let descriptor = try createFile(temporary, near: directory, permissions: permissions)
        var open = true
        do throws(StorageError) {
            try write(descriptor, bytes, path: temporary)
            try sync(descriptor, path: temporary)
            open = false
            try close(descriptor, path: temporary)
            try rename(temporary, to: path)
        } catch {
            if open { _ = try? close(descriptor, path: temporary) }
            _ = try? removeFile(temporary)
            throw error
        }
        try syncDirectory(directory)
    }
}

extension FileSystem {
    /// `mkdir -p` that also makes every new directory's entry durable by syncing its parent (unless
    /// `syncParents` is false: the caller flushes the whole file system afterwards).
    /// Returns how many directories it synced.
    @discardableResult
    func makeDirectories(_ path: String, syncParents: Bool = true) throws(StorageError) -> Int {
        if try kind(path) == .directory { return 0 }
        var syncs = 0
        let parent = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? ""
        let hasParent = !parent.isEmpty && parent != path
        if hasParent { syncs += try makeDirectories(parent, syncParents: syncParents) }
        if try makeDirectory(path), hasParent, syncParents {
            try syncDirectory(parent)
            syncs += 1
        }
        return syncs
    }
}

/// Crash-safe replacement of a small file outside the NodeFS layout (the server's own state):
/// the same write path as `NodeFSStorage`, with the temporary file beside the destination.
/// `package`: the server's session files use it, but it is no part of the repo layer's API.
package enum DurableFile {
    package static func replace(_ path: String, with bytes: [UInt8], permissions: UInt16 = 0o644) throws(StorageError) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let temporary = path + ".tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try PosixFileSystem().replaceFile(path, in: directory, with: bytes, temporary: temporary, permissions: permissions)
    }
}

extension StorageError {
    /// An `EEXIST` from the file system: the name is taken.
    var isFileExists: Bool {
        if case .io(_, _, let code, _) = self { return code == EEXIST }
        return false
    }
}

/// The real POSIX implementation.
struct PosixFileSystem: FileSystem {
    static func failure(_ operation: String, _ path: String, _ code: Int32 = errno) -> StorageError {
        .io(operation: operation, path: path, errno: code, reason: String(cString: strerror(code)))
    }

    func makeDirectory(_ path: String) throws(StorageError) -> Bool {
        if mkdir(path, 0o755) == 0 { return true }
        let code = errno
        if code == EEXIST, try kind(path) == .directory { return false }
        throw Self.failure("mkdir", path, code)
    }

    func createFile(_ path: String, permissions: UInt16) throws(StorageError) -> Int32 {
        while true {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(permissions))
            if descriptor >= 0 { return descriptor }
            if errno != EINTR { throw Self.failure("open", path) }
        }
    }

    /// Linux: an unnamed file in `directory` (`O_TMPFILE`, so the file system places its inode
    /// there), then given the name `path` (`linkat` through `/proc/self/fd`). Where that is not
    /// available, a plain `createFile(path)`. Either way the file exists only as `path`: a crash
    /// before the link leaves nothing, after it the same leftover as `createFile`.
    func createFile(_ path: String, near directory: String, permissions: UInt16) throws(StorageError) -> Int32 {
        #if os(Linux)
        switch Self.createLinkedUnnamedFile(path, in: directory, permissions: permissions) {
        case .success(let descriptor): return descriptor
        // Taken: the caller's names are unique, so that is an error of its own, as with `O_EXCL`.
        case .failure(let error) where error.isFileExists: throw error
        case .failure: break
        }
        #endif
        return try createFile(path, permissions: permissions)
    }

    #if os(Linux)
    /// The `O_TMPFILE` + `linkat` way of `createFile(_:near:permissions:)` alone: the open
    /// descriptor, or the error of the step that failed (nothing is left behind then).
    static func createLinkedUnnamedFile(_ path: String, in directory: String, permissions: UInt16) -> Result<Int32, StorageError> {
        let descriptor = openUnnamed(in: directory, permissions: permissions)
        guard descriptor >= 0 else { return .failure(failure("open O_TMPFILE", directory)) }
        guard linkUnnamed(descriptor, to: path) == 0 else {
            let code = errno
            _ = Glibc.close(descriptor)
            return .failure(failure("link", path, code))
        }
        return .success(descriptor)
    }

    /// `open` with `O_TMPFILE`: a file with no name in `directory`, or -1 (`errno` says why).
    private static func openUnnamed(in directory: String, permissions: UInt16) -> Int32 {
        open(directory, temporaryFileFlag | O_WRONLY | O_CLOEXEC, mode_t(permissions))
    }

    /// `linkat` of an open unnamed file, through `/proc/self/fd` (which needs no privilege, where
    /// `AT_EMPTY_PATH` does).
    private static func linkUnnamed(_ descriptor: Int32, to path: String) -> Int32 {
        linkat(AT_FDCWD, "/proc/self/fd/\(descriptor)", AT_FDCWD, path, AT_SYMLINK_FOLLOW)
    }
    #endif

    func createUnnamedFile(in directory: String, permissions: UInt16) throws(StorageError) -> Int32? {
        #if os(Linux)
        let descriptor = Self.openUnnamed(in: directory, permissions: permissions)
        // Unsupported here (or failing): the caller's named temporary file reports any real error.
        return descriptor >= 0 ? descriptor : nil
        #else
        return nil
        #endif
    }

    func link(_ descriptor: Int32, to path: String) throws(StorageError) {
        #if os(Linux)
        guard Self.linkUnnamed(descriptor, to: path) == 0 else { throw Self.failure("link", path) }
        #else
        throw Self.failure("link", path, ENOTSUP)
        #endif
    }

    #if os(Linux)
    /// `O_TMPFILE` (`__O_TMPFILE | O_DIRECTORY`), which the Glibc module does not import.
    static let temporaryFileFlag: Int32 = 0o20_000_000 | O_DIRECTORY
    #endif

    func write(_ descriptor: Int32, _ bytes: [UInt8], path: String) throws(StorageError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                #if canImport(Darwin)
                return Darwin.write(descriptor, base + offset, buffer.count - offset)
                #else
                return Glibc.write(descriptor, base + offset, buffer.count - offset)
                #endif
            }
            if written > 0 {
                offset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                throw Self.failure("write", path, written < 0 ? errno : EIO)
            }
        }
    }

    func sync(_ descriptor: Int32, path: String) throws(StorageError) {
        #if canImport(Darwin)
        // On Darwin, fsync does not flush the drive cache; F_FULLFSYNC does.
        if fcntl(descriptor, F_FULLFSYNC) == 0 { return }
        #endif
        guard fsync(descriptor) == 0 else { throw Self.failure("fsync", path) }
    }

    func close(_ descriptor: Int32, path: String) throws(StorageError) {
        #if canImport(Darwin)
        let result = Darwin.close(descriptor)
        #else
        let result = Glibc.close(descriptor)
        #endif
        // EINTR on close: the descriptor is released anyway on Linux; retrying could close another file.
        guard result == 0 || errno == EINTR else { throw Self.failure("close", path) }
    }

    func rename(_ source: String, to destination: String) throws(StorageError) {
        #if canImport(Darwin)
        let result = Darwin.rename(source, destination)
        #else
        let result = Glibc.rename(source, destination)
        #endif
        guard result == 0 else { throw Self.failure("rename to \(destination)", source) }
    }

    func syncDirectory(_ path: String) throws(StorageError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.failure("open directory", path) }
        defer { _ = try? close(descriptor, path: path) }
        guard fsync(descriptor) == 0 else { throw Self.failure("fsync directory", path) }
    }

    func syncFileSystem(_ path: String) throws(StorageError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.failure("open directory", path) }
        defer { _ = try? close(descriptor, path: path) }
        #if canImport(Glibc)
        // `syncfs` is a GNU extension the Glibc module does not import; it is looked up once.
        guard let syncfs = Self.syncfs else { throw Self.failure("syncfs", path, ENOSYS) }
        guard syncfs(descriptor) == 0 else { throw Self.failure("syncfs", path) }
        #elseif canImport(Darwin)
        guard fcntl(descriptor, F_FULLFSYNC) == 0 || fsync(descriptor) == 0 else { throw Self.failure("fsync", path) }
        sync()
        #else
        sync()
        #endif
    }

    #if canImport(Glibc)
    private static let syncfs: (@convention(c) (Int32) -> Int32)? = dlsym(nil, "syncfs").map {
        unsafeBitCast($0, to: (@convention(c) (Int32) -> Int32).self)
    }
    #endif

    func removeFile(_ path: String) throws(StorageError) -> Bool {
        if unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw Self.failure("unlink", path)
    }

    func removeDirectory(_ path: String) throws(StorageError) -> Bool {
        if rmdir(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw Self.failure("rmdir", path)
    }

    func readFile(_ path: String) throws(StorageError) -> [UInt8]? {
        var descriptor: Int32
        repeat { descriptor = open(path, O_RDONLY | O_CLOEXEC) } while descriptor < 0 && errno == EINTR
        if descriptor < 0 {
            if errno == ENOENT { return nil }
            throw Self.failure("open", path)
        }
        defer { _ = try? close(descriptor, path: path) }
        // Sized from the file's length, so a large file is read into one buffer of its size
        // instead of a doubling one (which holds up to twice the file while it grows). A file that
        // changes meanwhile is still read to its end.
        var result: [UInt8] = []
        let size = lseek(descriptor, 0, SEEK_END)
        if size > 0, lseek(descriptor, 0, SEEK_SET) == 0 {
            result.reserveCapacity(Int(min(size, 1 << 31)))
        } else if size != 0 {
            _ = lseek(descriptor, 0, SEEK_SET)
        }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return read(descriptor, base, raw.count)
            }
            if count > 0 {
                result.append(contentsOf: buffer[0..<count])
            } else if count == 0 {
                return result
            } else if errno != EINTR {
                throw Self.failure("read", path)
            }
        }
    }

    func listDirectory(_ path: String) throws(StorageError) -> [String]? {
        guard let directory = opendir(path) else {
            if errno == ENOENT { return nil }
            throw Self.failure("opendir", path)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 { throw Self.failure("readdir", path) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String? in
                let bytes = Array(raw.prefix { $0 != 0 })
                let decoded = String(decoding: bytes, as: UTF8.self)
                // A name that is not UTF-8 cannot be a key component; it would not round-trip.
                return Array(decoded.utf8) == bytes ? decoded : nil
            }
            if let name, name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// ext2/3/4's `T` attribute (`chattr +T`, `FS_TOPDIR_FL`): the Orlov allocator then places
    /// each new subdirectory in a block group with room rather than beside its parent. A data
    /// directory created in a busy folder (`/tmp`) otherwise shares its block group with
    /// everything else there, and on ext4 without a journal every file created in a group whose
    /// inodes were recently freed (by builds, other programs, our own compactions) is slowed by a
    /// scan over those inodes: measured here, a new document's folders and first file cost
    /// ~0.7 ms of kernel time in `/tmp`, ~0.06 ms below a directory marked so.
    func markTopOfHierarchy(_ path: String) {
        #if os(Linux)
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { _ = try? close(descriptor, path: path) }
        var flags: Int32 = 0
        guard ioctl(descriptor, Self.getFlags, &flags) == 0, flags & Self.topDirectoryFlag == 0 else { return }
        flags |= Self.topDirectoryFlag
        _ = ioctl(descriptor, Self.setFlags, &flags)
        #endif
    }

    #if os(Linux)
    /// `FS_IOC_GETFLAGS`, `FS_IOC_SETFLAGS` and `FS_TOPDIR_FL` from `<linux/fs.h>` (64-bit ABI;
    /// the kernel reads and writes an `int`).
    static let getFlags: UInt = 0x8008_6601
    static let setFlags: UInt = 0x4008_6602
    static let topDirectoryFlag: Int32 = 0x0002_0000

    /// The directory's inode flags (`lsattr`), or nil where the file system has none.
    static func inodeFlags(_ path: String) -> Int32? {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { _ = Glibc.close(descriptor) }
        var flags: Int32 = 0
        return ioctl(descriptor, getFlags, &flags) == 0 ? flags : nil
    }
    #endif

    func kind(_ path: String) throws(StorageError) -> FileKind? {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw Self.failure("lstat", path)
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        default: return .other
        }
    }
}

// The methods above share these calls' names; module-qualified aliases avoid the clash.
#if canImport(Glibc)
private let posixWrite = Glibc.write
private let posixClose = Glibc.close
private let posixRename = Glibc.rename
#elseif canImport(Musl)
private let posixWrite = Musl.write
private let posixClose = Musl.close
private let posixRename = Musl.rename
#elseif canImport(Darwin)
private let posixWrite = Darwin.write
private let posixClose = Darwin.close
private let posixRename = Darwin.rename
#endif
