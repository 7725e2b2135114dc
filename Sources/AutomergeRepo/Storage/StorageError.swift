/// Why a storage operation failed. Paths are included (they are not secret) so an operator can act.
package enum StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A file-system call failed: which call, on which path, and the `errno` text.
    case io(operation: String, path: String, errno: Int32, reason: String)
    /// A key or key component (document id, chunk name, remote storage id) cannot become a path.
    case invalidKey(StorageKeyError)
    /// `st/orage-adapter-id` exists but does not hold a usable id.
    case invalidStorageId(path: String, reason: String)
    /// No chunk of a stored document could be loaded.
    case corruptDocument(documentId: String, detail: String)
    /// The graph handed to `compact` lacks changes that are already stored; compacting would delete them.
    case compactionWouldLoseChanges(documentId: String, missing: Int)
    /// The graph was built without retaining change bytes, so it cannot be written.
    case graphWithoutChangeBytes(documentId: String)

    package var description: String {
        switch self {
        case .io(let operation, let path, let errno, let reason):
            return "\(operation) failed for \(path): \(reason) (errno \(errno))"
        case .invalidKey(let error):
            return "invalid storage key: \(error)"
        case .invalidStorageId(let path, let reason):
            return "\(path) does not hold a valid storage id (\(reason)); fix or delete the file to generate a new one"
        case .corruptDocument(let documentId, let detail):
            return "document \(documentId) could not be loaded from storage: \(detail)"
        case .compactionWouldLoseChanges(let documentId, let missing):
            return "refusing to compact document \(documentId): the graph lacks \(missing) stored change(s); load the document first"
        case .graphWithoutChangeBytes(let documentId):
            return "cannot save document \(documentId): its graph does not retain change bytes"
        }
    }
}
