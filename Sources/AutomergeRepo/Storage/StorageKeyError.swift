/// Why an array of strings cannot be used as a NodeFS storage key (and so must never become a path).
package enum StorageKeyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A key needs at least one component.
    case emptyKey
    /// A component is the empty string.
    case emptyComponent(index: Int)
    /// A component contains `/`, `\`, NUL or another control character.
    case forbiddenCharacter(index: Int)
    /// A component (or half of the split first component) is `.` or `..`.
    case dotSegment(index: Int)
    /// A component is longer than a file name may be.
    case componentTooLong(index: Int, byteCount: Int)
    /// The first component is split after 2 UTF-16 units; it needs at least 3, and its first 2 must be ASCII
    /// so that Swift and JS split it in the same place.
    case firstComponentUnsplittable
    /// A relative path that does not have at least the two directory levels of the first component.
    case invalidPath(String)

    package var description: String {
        switch self {
        case .emptyKey: return "storage key has no components"
        case .emptyComponent(let index): return "storage key component \(index) is empty"
        case .forbiddenCharacter(let index):
            return "storage key component \(index) contains '/', '\\', NUL or a control character, which would change the file path"
        case .dotSegment(let index): return "storage key component \(index) would become a '.' or '..' path segment"
        case .componentTooLong(let index, let count): return "storage key component \(index) is \(count) bytes; file names allow 255"
        case .firstComponentUnsplittable:
            return "the first storage key component needs at least 3 characters, the first 2 ASCII, to form the <2 chars>/<rest> directories"
        case .invalidPath(let path): return "\"\(path)\" is not a NodeFS storage path"
        }
    }
}
