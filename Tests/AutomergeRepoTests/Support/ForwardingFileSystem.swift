@testable import AutomergeRepo

/// A test file system built on the real one: a double conforms, implements only the calls it
/// intercepts (a failing or slowed fsync, a held rename), and every other call goes to `real`.
protocol ForwardingFileSystem: FileSystem {
    var real: PosixFileSystem { get }
}

extension ForwardingFileSystem {
    func makeDirectory(_ path: String) throws(StorageError) -> Bool { try real.makeDirectory(path) }
    func createFile(_ path: String, permissions: UInt16) throws(StorageError) -> Int32 {
        try real.createFile(path, permissions: permissions)
    }
    func createFile(_ path: String, near directory: String, permissions: UInt16) throws(StorageError) -> Int32 {
        try real.createFile(path, near: directory, permissions: permissions)
    }
    func createUnnamedFile(in directory: String, permissions: UInt16) throws(StorageError) -> Int32? {
        try real.createUnnamedFile(in: directory, permissions: permissions)
    }
    func link(_ descriptor: Int32, to path: String) throws(StorageError) { try real.link(descriptor, to: path) }
    func write(_ descriptor: Int32, _ bytes: [UInt8], path: String) throws(StorageError) {
        try real.write(descriptor, bytes, path: path)
    }
    func sync(_ descriptor: Int32, path: String) throws(StorageError) { try real.sync(descriptor, path: path) }
    func close(_ descriptor: Int32, path: String) throws(StorageError) { try real.close(descriptor, path: path) }
    func rename(_ source: String, to destination: String) throws(StorageError) { try real.rename(source, to: destination) }
    func syncDirectory(_ path: String) throws(StorageError) { try real.syncDirectory(path) }
    func syncFileSystem(_ path: String) throws(StorageError) { try real.syncFileSystem(path) }
    func removeFile(_ path: String) throws(StorageError) -> Bool { try real.removeFile(path) }
    func removeDirectory(_ path: String) throws(StorageError) -> Bool { try real.removeDirectory(path) }
    func readFile(_ path: String) throws(StorageError) -> [UInt8]? { try real.readFile(path) }
    func listDirectory(_ path: String) throws(StorageError) -> [String]? { try real.listDirectory(path) }
    func kind(_ path: String) throws(StorageError) -> FileKind? { try real.kind(path) }
    func markTopOfHierarchy(_ path: String) { real.markTopOfHierarchy(path) }
}
