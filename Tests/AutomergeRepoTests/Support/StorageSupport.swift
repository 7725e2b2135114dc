import AutomergeCore
import Foundation

@testable import AutomergeRepo

/// Builds a linear history of one actor, each change putting a bytes value of a chosen size.
struct DocumentBuilder {
    private(set) var graph = ChangeGraph()
    let actor: ActorId
    private var seq: UInt64 = 0
    private var maxOp: UInt64 = 0

    init(actorByte: UInt8 = 1) {
        actor = ActorId([UInt8](repeating: actorByte, count: 16))
    }

    /// Adds one change and returns its chunk.
    @discardableResult
    mutating func addChange(payloadBytes: Int = 8) throws -> ChangeChunk {
        seq += 1
        maxOp += 1
        // Pseudo-random bytes: they do not compress, so saved documents keep their size.
        // Seeded apart per change (a plain seq offset would make change n+1 a shifted copy of n).
        var state = (seq &* 0xD1B5_4A32_D192_ED03) ^ (UInt64(actor.bytes[0]) << 56)
        let payload = (0..<payloadBytes).map { _ -> UInt8 in
            state = state &+ 0x9E37_79B9_7F4A_7C15
            var mixed = (state ^ (state >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
            return UInt8(truncatingIfNeeded: mixed ^ (mixed >> 31))
        }
        let op = Op(object: .root, key: .map("k\(seq % 5)"), action: .put, value: .bytes(payload))
        let change = Change(deps: graph.heads, actor: actor, seq: seq, startOp: maxOp, time: Int64(seq), ops: [op])
        let chunk = change.encodeChunk()
        try graph.add(chunk)
        return chunk
    }
}

func documentId(_ byte: UInt8) throws -> DocumentId {
    try DocumentId(bytes: (0..<16).map { UInt8($0) &+ byte &* 16 })
}

/// A `FileSystem` that crashes at its k-th mutating call: that call fails (a write leaves half its bytes
/// behind, as a torn write would) and so does every mutating call after it, as if the process had died.
/// Reads keep working; the crashed instance is abandoned anyway.
final class CrashingFileSystem: FileSystem, @unchecked Sendable {
    private let real = PosixFileSystem()
    private let lock = NSLock()
    private let crashAt: Int
    private var steps = 0
    private(set) var log: [String] = []

    init(crashAt: Int = .max) { self.crashAt = crashAt }

    /// Mutating calls made so far (including the one that crashed).
    var stepCount: Int { lock.withLock { steps } }
    var crashed: Bool { lock.withLock { steps > crashAt } }

    private func step(_ name: String, _ path: String) throws(StorageError) {
        let current: Int = lock.withLock {
            steps += 1
            log.append("\(name) \(path)")
            return steps - 1
        }
        if current >= crashAt { throw .io(operation: "\(name) (simulated crash)", path: path, errno: EIO, reason: "crashed") }
    }

    func makeDirectory(_ path: String) throws(StorageError) -> Bool {
        try step("mkdir", path)
        return try real.makeDirectory(path)
    }

    func createFile(_ path: String, permissions: UInt16) throws(StorageError) -> Int32 {
        try step("create", path)
        return try real.createFile(path, permissions: permissions)
    }

    /// A file no one can see until it is linked: a crash before that leaves nothing.
    func createUnnamedFile(in directory: String, permissions: UInt16) throws(StorageError) -> Int32? {
        try step("create-unnamed", directory)
        return try real.createUnnamedFile(in: directory, permissions: permissions)
    }

    func link(_ descriptor: Int32, to path: String) throws(StorageError) {
        try step("link", path)
        try real.link(descriptor, to: path)
    }

    func write(_ descriptor: Int32, _ bytes: [UInt8], path: String) throws(StorageError) {
        do throws(StorageError) {
            try step("write", path)
        } catch {
            try? real.write(descriptor, Array(bytes.prefix(bytes.count / 2)), path: path)
            throw error
        }
        try real.write(descriptor, bytes, path: path)
    }

    func sync(_ descriptor: Int32, path: String) throws(StorageError) {
        try step("fsync", path)
        try real.sync(descriptor, path: path)
    }

    func close(_ descriptor: Int32, path: String) throws(StorageError) {
        do throws(StorageError) {
            try step("close", path)
        } catch {
            // The kernel closes it when the process dies; do so to avoid leaking it in the test process.
            try? real.close(descriptor, path: path)
            throw error
        }
        try real.close(descriptor, path: path)
    }

    func rename(_ source: String, to destination: String) throws(StorageError) {
        try step("rename", destination)
        try real.rename(source, to: destination)
    }

    func syncDirectory(_ path: String) throws(StorageError) {
        try step("fsync-dir", path)
        try real.syncDirectory(path)
    }

    func syncFileSystem(_ path: String) throws(StorageError) {
        try step("syncfs", path)
        try real.syncFileSystem(path)
    }

    func removeFile(_ path: String) throws(StorageError) -> Bool {
        try step("unlink", path)
        return try real.removeFile(path)
    }

    func removeDirectory(_ path: String) throws(StorageError) -> Bool {
        try step("rmdir", path)
        return try real.removeDirectory(path)
    }

    func readFile(_ path: String) throws(StorageError) -> [UInt8]? { try real.readFile(path) }
    func listDirectory(_ path: String) throws(StorageError) -> [String]? { try real.listDirectory(path) }
    func kind(_ path: String) throws(StorageError) -> FileKind? { try real.kind(path) }
}
