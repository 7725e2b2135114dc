import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the server's own state (sessions, root documents) could not be read or written.
public struct StateFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let reason: String

    public var description: String { "\(path): \(reason)" }
}

/// `DATA_DIR/.groundmist`: the server's own small JSON files. A dot-directory can never collide
/// with NodeFS document folders (two base58 characters) or lexicon group folders (NSID segments
/// never start with a dot).
///
/// Writes are crash-safe (temporary file, fsync, rename, fsync of the directory), and every
/// read-modify-write runs under an exclusive `flock`, so the server and a CLI command in another
/// process never lose each other's updates.
public struct StateDirectory: Sendable {
    public static let name = ".groundmist"
    public let path: String

    public init(dataDirectory: String) {
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

    /// Replaces the file atomically and durably.
    func write(_ name: String, bytes: [UInt8]) throws(StateFileError) {
        try ensureExists()
        let file = filePath(name)
        let temporary = file + ".tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Self.failure(temporary, "open") }
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
            } else if !(written < 0 && errno == EINTR) {
                let error = Self.failure(temporary, "write")
                _ = close(descriptor)
                _ = unlink(temporary)
                throw error
            }
        }
        guard fsync(descriptor) == 0 else {
            let error = Self.failure(temporary, "fsync")
            _ = close(descriptor)
            _ = unlink(temporary)
            throw error
        }
        _ = close(descriptor)
        guard rename(temporary, file) == 0 else {
            let error = Self.failure(file, "rename")
            _ = unlink(temporary)
            throw error
        }
        let directory = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            _ = close(directory)
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
