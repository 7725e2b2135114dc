/// The POSIX ustar format, as far as backups need it: regular files and directories, names up to
/// 255 bytes (split into the prefix and name fields), no links, no extended headers. Any `tar`
/// extracts what `TarWriter` writes; `TarReader` accepts only that subset and says why not.
enum TarArchive {
    static let blockSize = 512

    enum EntryKind: Equatable { case file, directory }

    struct Entry: Equatable {
        var path: String
        var kind: EntryKind
        var mode: UInt32
        var modificationTime: Int
        var bytes: [UInt8]
    }

    enum Failure: Error, Equatable, CustomStringConvertible {
        case pathTooLong(String)
        case unsafePath(String)
        case truncated(offset: Int)
        case badChecksum(offset: Int)
        case notUstar(offset: Int)
        case badNumber(field: String, offset: Int)
        case unsupportedEntry(path: String, type: UInt8)
        case duplicate(String)

        var description: String {
            switch self {
            case .pathTooLong(let path): "cannot store \(path) in a tar archive: the path is longer than 255 bytes"
            case .unsafePath(let path): "the archive names an unsafe path '\(path)' (absolute, empty or with . or .. parts)"
            case .truncated(let offset): "the archive ends early (at byte \(offset)): the file is incomplete"
            case .badChecksum(let offset): "the archive is damaged: the header at byte \(offset) fails its checksum"
            case .notUstar(let offset): "not a tar archive of the kind backup writes (no ustar header at byte \(offset))"
            case .badNumber(let field, let offset): "the archive is damaged: bad \(field) in the header at byte \(offset)"
            case .unsupportedEntry(let path, let type):
                "the archive holds '\(path)' of tar type \(Character(UnicodeScalar(type))); backups hold only files and directories"
            case .duplicate(let path): "the archive names \(path) twice"
            }
        }
    }

    /// Relative, non-empty components, none of them `.` or `..`, no NUL or backslash tricks.
    static func isSafe(_ path: String) -> Bool {
        guard !path.isEmpty, !path.hasPrefix("/"), !path.utf8.contains(0) else { return false }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
    }
}

/// Appends entries to a ustar archive through `write`.
struct TarWriter {
    let write: ([UInt8]) throws -> Void

    func append(_ entry: TarArchive.Entry) throws {
        guard TarArchive.isSafe(entry.path) else { throw TarArchive.Failure.unsafePath(entry.path) }
        let (prefix, name) = try Self.split(entry.kind == .directory ? entry.path + "/" : entry.path)
        var header = [UInt8](repeating: 0, count: TarArchive.blockSize)
        func put(_ text: [UInt8], at offset: Int) { header.replaceSubrange(offset..<offset + text.count, with: text) }
        func octal(_ value: Int, width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
        }
        let size = entry.kind == .file ? entry.bytes.count : 0
        put(Array(name.utf8), at: 0)
        put(octal(Int(entry.mode & 0o7777), width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        put(octal(size, width: 12), at: 124)
        put(octal(max(0, entry.modificationTime), width: 12), at: 136)
        header[156] = entry.kind == .file ? UInt8(ascii: "0") : UInt8(ascii: "5")
        put(Array("ustar\u{0}00".utf8), at: 257)
        put(Array(prefix.utf8), at: 345)
        put(Array(repeating: UInt8(ascii: " "), count: 8), at: 148)
        let checksum = header.reduce(0) { $0 + Int($1) }
        put(octal(checksum, width: 7) + [UInt8(ascii: " ")], at: 148)
        try write(header)
        if size > 0 {
            try write(entry.bytes)
            let padding = (TarArchive.blockSize - size % TarArchive.blockSize) % TarArchive.blockSize
            if padding > 0 { try write([UInt8](repeating: 0, count: padding)) }
        }
    }

    /// The two empty blocks that end an archive.
    func finish() throws {
        try write([UInt8](repeating: 0, count: 2 * TarArchive.blockSize))
    }

    /// ustar keeps up to 100 bytes in `name` and 155 more in `prefix`, split at a `/`.
    static func split(_ path: String) throws(TarArchive.Failure) -> (prefix: String, name: String) {
        let bytes = Array(path.utf8)
        if bytes.count <= 100 { return ("", path) }
        // The last slash that leaves at most 100 bytes after it and at most 155 before it.
        for index in stride(from: bytes.count - 1, through: 0, by: -1) where bytes[index] == UInt8(ascii: "/") {
            let nameCount = bytes.count - index - 1
            if nameCount > 100 { break }
            if index <= 155 && nameCount > 0 {
                return (String(decoding: bytes[..<index], as: UTF8.self), String(decoding: bytes[(index + 1)...], as: UTF8.self))
            }
        }
        throw .pathTooLong(path)
    }
}

/// Reads the entries of a ustar archive held in memory, checking every header.
struct TarReader {
    let bytes: [UInt8]

    func entries() throws(TarArchive.Failure) -> [TarArchive.Entry] {
        var result: [TarArchive.Entry] = []
        var seen: Set<String> = []
        var offset = 0
        while true {
            guard offset + TarArchive.blockSize <= bytes.count else { throw .truncated(offset: offset) }
            let header = bytes[offset..<offset + TarArchive.blockSize]
            if header.allSatisfy({ $0 == 0 }) { return result }
            guard Array(header[(offset + 257)..<(offset + 262)]) == Array("ustar".utf8) else { throw .notUstar(offset: offset) }
            let stored = try number(header, 148, 8, "checksum", offset)
            var sum = 0
            for (index, byte) in header.enumerated() { sum += (148..<156).contains(index) ? 32 : Int(byte) }
            guard stored == sum else { throw .badChecksum(offset: offset) }
            let name = text(header, 0, 100, offset)
            let prefix = text(header, 345, 155, offset)
            var path = prefix.isEmpty ? name : prefix + "/" + name
            let type = header[offset + 156]
            let size = try number(header, 124, 12, "size", offset)
            let mode = try number(header, 100, 8, "mode", offset)
            let time = try number(header, 136, 12, "time", offset)
            let kind: TarArchive.EntryKind
            switch type {
            case UInt8(ascii: "0"), 0: kind = .file
            case UInt8(ascii: "5"): kind = .directory
            default: throw .unsupportedEntry(path: path, type: type)
            }
            if kind == .directory, path.hasSuffix("/") { path.removeLast() }
            guard TarArchive.isSafe(path) else { throw .unsafePath(path) }
            guard seen.insert(path).inserted else { throw .duplicate(path) }
            let dataStart = offset + TarArchive.blockSize
            let dataSize = kind == .file ? size : 0
            guard dataSize <= bytes.count - dataStart else { throw .truncated(offset: bytes.count) }
            result.append(
                TarArchive.Entry(
                    path: path,
                    kind: kind,
                    mode: UInt32(mode & 0o7777),
                    modificationTime: time,
                    bytes: Array(bytes[dataStart..<dataStart + dataSize])
                )
            )
            offset = dataStart + (dataSize + TarArchive.blockSize - 1) / TarArchive.blockSize * TarArchive.blockSize
        }
    }

    private func text(_ header: ArraySlice<UInt8>, _ start: Int, _ length: Int, _ offset: Int) -> String {
        let field = header[(offset + start)..<(offset + start + length)]
        return String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// An octal field: digits, optionally padded with spaces or NULs; at most 11 digits.
    private func number(
        _ header: ArraySlice<UInt8>,
        _ start: Int,
        _ length: Int,
        _ field: String,
        _ offset: Int
    )
        throws(TarArchive.Failure) -> Int
    {
        let raw = header[(offset + start)..<(offset + start + length)]
        let digits = raw.drop { $0 == UInt8(ascii: " ") }.prefix { $0 != 0 && $0 != UInt8(ascii: " ") }
        guard !digits.isEmpty, digits.count <= 11, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "7")).contains($0) }) else {
            throw .badNumber(field: field, offset: offset)
        }
        return digits.reduce(0) { $0 * 8 + Int($1 - UInt8(ascii: "0")) }
    }
}
