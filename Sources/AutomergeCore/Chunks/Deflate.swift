import CompressNIO
import NIOCore

/// Raw DEFLATE (RFC 1951, no zlib or gzip header), as Automerge uses for compressed change
/// chunks and document columns.
enum Deflate {
    /// The largest inflated size accepted for one stream. Automerge columns and changes are far
    /// smaller; the bound stops a hostile "zip bomb" from exhausting memory.
    static let maximumInflatedSize = 1 << 30

    static func inflate(_ bytes: ArraySlice<UInt8>, maximumSize: Int = maximumInflatedSize) throws(AutomergeError) -> [UInt8] {
        var input = ByteBufferAllocator().buffer(capacity: bytes.count)
        input.writeBytes(bytes)
        do {
            var output = try input.decompress(with: .deflate(), maxSize: maximumSize)
            guard input.readableBytes == 0 else { throw AutomergeError.badDeflateStream }
            return output.readBytes(length: output.readableBytes) ?? []
        } catch {
            throw .badDeflateStream
        }
    }

    static func deflate(_ bytes: [UInt8]) -> [UInt8] {
        var input = ByteBufferAllocator().buffer(capacity: bytes.count)
        input.writeBytes(bytes)
        guard var output = try? input.compress(with: .deflate()) else { return [] }
        return output.readBytes(length: output.readableBytes) ?? []
    }
}
