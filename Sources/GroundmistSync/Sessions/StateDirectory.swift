import AutomergeRepo
import Foundation

#if canImport(Glibc)
import Glibc
// With MemberImportVisibility, Glibc struct members (stat, timespec) belong to whichever of
// Foundation's C modules included the header first, which varies between builds: import both.
import CDispatch
import CoreFoundation
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the server's own state (sessions, root documents) could not be read or written.
package struct StateFileError: Error, Sendable, Equatable, CustomStringConvertible {
    package let path: String
    package let reason: String

    package var description: String { "\(path): \(reason)" }
}

/// `DATA_DIR/.groundmist`: the server's own small JSON files. A dot-directory can never collide
/// with NodeFS document folders (two base58 characters) or lexicon group folders (NSID segments
/// never start with a dot).
///
/// Writes are crash-safe (temporary file, fsync, rename, fsync of the directory), and every
/// read-modify-write runs under an exclusive `flock`, so the server and a CLI command in another
/// process never lose each other's updates.
package struct StateDirectory: Sendable {
    package static let name = ".groundmist"
    package let path: String

    package init(dataDirectory: String) {
        path = URL(fileURLWithPath: dataDirectory, isDirectory: true).appendingPathComponent(Self.name).path
    }

    func filePath(_ name: String) -> String { path + "/" + name }

    func ensureExists() throws(StateFileError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw StateFileError(path: path, reason: "cannot create the directory (\(error.localizedDescription))")
        }
    }

    /// The file's bytes, or nil when it does not exist.
    func read(_ name: String) throws(StateFileError) -> [UInt8]? {
        let file = filePath(name)
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw StateFileError(path: file, reason: "cannot read the file")
        }
        return Array(data)
    }

    /// A cheap fingerprint (inode, size, modification time) that changes whenever the file is replaced.
    func fingerprint(_ name: String) -> String? {
        var info = stat()
        guard stat(filePath(name), &info) == 0 else { return nil }
        #if canImport(Darwin)
        let modified = info.st_mtimespec
        #else
        let modified = info.st_mtim
        #endif
        return "\(info.st_ino)-\(info.st_size)-\(modified.tv_sec)-\(modified.tv_nsec)"
    }

    /// Replaces the file atomically and durably (temporary file, fsync, rename, fsync of the directory).
    /// Called inside `withLock`, which has created the directory.
    func write(_ name: String, bytes: [UInt8]) throws(StateFileError) {
        let file = filePath(name)
        do {
            try DurableFile.replace(file, with: bytes, permissions: 0o600)
        } catch {
            throw StateFileError(path: file, reason: error.description)
        }
    }

    /// Runs `body` holding an exclusive lock shared with other processes using the same data directory.
    func withLock<T>(_ name: String, _ body: () throws(StateFileError) -> T) throws(StateFileError) -> T {
        try ensureExists()
        let lockPath = filePath(name + ".lock")
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Self.failure(lockPath, "open") }
        defer { _ = close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw Self.failure(lockPath, "flock") }
        }
        defer { _ = flock(descriptor, LOCK_UN) }
        return try body()
    }

    private static func failure(_ path: String, _ operation: String) -> StateFileError {
        StateFileError(path: path, reason: "\(operation) failed: \(String(cString: strerror(errno)))")
    }
}
