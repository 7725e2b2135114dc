import ByteEncodings
import Crypto

/// The chunk types of the storage format (docs/binary-format.md §2).
package enum ChunkType: UInt8, Sendable {
    case document = 0
    case change = 1
    case compressedChange = 2
    case bundle = 3
}

/// A change chunk in its canonical, uncompressed (type 1) form, with its hash.
///
/// Type-2 (compressed) chunks are inflated on parse: the hash covers the type-1 form, so the
/// stored bytes are always those a current peer would send.
package struct ChangeChunk: Sendable, Equatable {
    /// The whole chunk: magic, checksum, type 1, length, body.
    package let bytes: [UInt8]
    package let hash: ChangeHash
    /// Where the body starts in `bytes`.
    package let bodyStart: Int

    /// Wraps a change body in a chunk header and hashes it.
    package init(body: [UInt8]) {
        var header: [UInt8] = [ChunkType.change.rawValue]
        LEB128.appendUnsigned(UInt64(body.count), to: &header)
        var hasher = SHA256()
        hasher.update(data: header)
        hasher.update(data: body)
        let digest = Array(hasher.finalize())
        let hash = ChangeHash(digest, at: 0)
        var bytes: [UInt8] = Chunk.magic
        bytes.reserveCapacity(8 + header.count + body.count)
        bytes.append(contentsOf: digest[0..<4])
        bytes.append(contentsOf: header)
        bytes.append(contentsOf: body)
        self.bytes = bytes
        self.hash = hash
        self.bodyStart = 8 + header.count
    }

    init(verifiedBytes: [UInt8], hash: ChangeHash, bodyStart: Int) {
        self.bytes = verifiedBytes
        self.hash = hash
        self.bodyStart = bodyStart
    }

    package var body: ArraySlice<UInt8> { bytes[bodyStart...] }
}

/// One chunk read from a byte string.
package enum Chunk: Sendable {
    case document(DocumentChunkBytes)
    case change(ChangeChunk)

    static let magic: [UInt8] = [0x85, 0x6f, 0x4a, 0x83]
}

/// A document chunk's bytes, checksum verified, not yet decoded.
package struct DocumentChunkBytes: Sendable {
    package let bytes: [UInt8]
    package let bodyRange: Range<Int>
    /// The body as stored (columns may still be DEFLATEd).
    package var body: ArraySlice<UInt8> { bytes[bodyRange] }
}

/// Counts of the chunk kinds seen while parsing.
package struct ChunkCounts: Sendable, Equatable {
    package var document = 0
    package var change = 0
    package var compressed = 0
    package init() {}
}

/// Reads any concatenation of chunks (docs/binary-format.md §2). Errors carry the chunk's index and offset.
package struct ChunkReader: Sendable {
    private let bytes: [UInt8]
    private var offset = 0
    private var index = 0
    package private(set) var counts = ChunkCounts()
    /// What compressed change chunks may still inflate to; shared by the whole input.
    package var inflation: InflationBudget

    package init(_ bytes: [UInt8], inflation: InflationLimits = .storage) {
        self.bytes = bytes
        self.inflation = InflationBudget(inflation)
    }

    package var isAtEnd: Bool { offset >= bytes.count }
    /// The byte offset of the next chunk.
    package var position: Int { offset }

    package mutating func next() throws(AutomergeError) -> Chunk? {
        guard offset < bytes.count else { return nil }
        let start = offset
        let chunkIndex = index
        do throws(AutomergeError) {
            let (chunk, end) = try Self.parse(bytes, at: start, counts: &counts, inflation: &inflation)
            offset = end
            index += 1
            return chunk
        } catch {
            throw .inChunk(index: chunkIndex, offset: start, error.underlying)
        }
    }

    /// Parses every chunk.
    package static func readAll(_ bytes: [UInt8]) throws(AutomergeError) -> [Chunk] {
        var reader = ChunkReader(bytes)
        var chunks: [Chunk] = []
        while let chunk = try reader.next() { chunks.append(chunk) }
        return chunks
    }

    private static func parse(
        _ bytes: [UInt8],
        at start: Int,
        counts: inout ChunkCounts,
        inflation: inout InflationBudget
    ) throws(AutomergeError) -> (Chunk, Int) {
        var reader = ByteReader(bytes, range: start..<bytes.count)
        let magic = try reader.readRange(4, "chunk magic")
        guard bytes[magic].elementsEqual(Chunk.magic) else { throw .badMagic }
        let checksum = try reader.readRange(4, "chunk checksum")
        let typeOffset = reader.offset
        let typeByte = try reader.readByte("chunk type")
        guard let type = ChunkType(rawValue: typeByte) else { throw .unknownChunkType(typeByte) }
        let length = try reader.readULEB("chunk length")
        guard length <= UInt64(reader.remaining) else { throw .unexpectedEnd(what: "chunk body") }
        let body = try reader.readRange(Int(length), "chunk body")
        let end = reader.offset

        switch type {
        case .bundle:
            throw .bundleNotSupported
        case .document, .change:
            let hash = ChangeHash.sha256(of: bytes, typeOffset..<end)
            let sum = hash.checksum
            let at = checksum.lowerBound
            guard bytes[at] == sum.0 && bytes[at + 1] == sum.1 && bytes[at + 2] == sum.2 && bytes[at + 3] == sum.3 else {
                throw .badChecksum
            }
            if type == .document {
                counts.document += 1
                let chunkBytes = Array(bytes[start..<end])
                let shift = start
                return (.document(DocumentChunkBytes(bytes: chunkBytes, bodyRange: (body.lowerBound - shift)..<(body.upperBound - shift))), end)
            }
            counts.change += 1
            let chunkBytes = start == 0 && end == bytes.count ? bytes : Array(bytes[start..<end])
            return (.change(ChangeChunk(verifiedBytes: chunkBytes, hash: hash, bodyStart: body.lowerBound - start)), end)
        case .compressedChange:
            let inflated = try Deflate.inflate(bytes[body], budget: &inflation)
            let change = ChangeChunk(body: inflated)
            guard change.bytes[4..<8].elementsEqual(bytes[checksum]) else { throw .badChecksum }
            counts.compressed += 1
            return (.change(change), end)
        }
    }
}

extension ChangeHash {
    /// The SHA-256 of `bytes[range]` (a chunk's type, length and body), hashed straight from the
    /// array's storage: no generic `DataProtocol` path and no copy of the digest, once per change
    /// of a rebuilt or received document.
    static func sha256(of bytes: [UInt8], _ range: Range<Int>) -> ChangeHash {
        bytes.withUnsafeBytes { buffer in
            var hasher = SHA256()
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[range]))
            return hasher.finalize().withUnsafeBytes { ChangeHash($0) }
        }
    }

    /// The SHA-256 of bytes the caller holds in raw memory (the rebuild's chunk buffer).
    static func sha256(of buffer: UnsafeRawBufferPointer) -> ChangeHash {
        var hasher = SHA256()
        hasher.update(bufferPointer: buffer)
        return hasher.finalize().withUnsafeBytes { ChangeHash($0) }
    }
}
