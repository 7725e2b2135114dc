import CompressNIO
import NIOCore

/// How many inflated bytes one parse may produce: per DEFLATE stream (one compressed change
/// chunk or one document column) and in total over every stream of one input (one sync message,
/// one file). The bounds stop "zip bombs": a few hundred kilobytes that inflate to gigabytes.
package struct InflationLimits: Sendable, Equatable {
    /// The most one stream may inflate to.
    package var perStream: Int
    /// The most all streams of one input may inflate to together.
    package var total: Int

    package init(perStream: Int, total: Int) {
        self.perStream = perStream
        self.total = total
    }

    /// For what a peer sends in one sync message: 32 MiB per compressed change, 64 MiB in all
    /// (the default WebSocket message size; a reply carrying these changes must fit one too).
    package static let syncMessage = InflationLimits(perStream: 32 << 20, total: 64 << 20)

    /// For our own storage and local tools: large enough for any real document, small enough
    /// that a damaged or planted file cannot exhaust memory.
    package static let storage = InflationLimits(perStream: 1 << 30, total: 2 << 30)
}

/// The inflated bytes one parse has left, spent stream by stream and checked while inflating.
package struct InflationBudget: Sendable, Equatable {
    package let limits: InflationLimits
    /// Bytes still allowed in total.
    package private(set) var remaining: Int

    package init(_ limits: InflationLimits) {
        self.limits = limits
        self.remaining = max(0, limits.total)
    }

    /// The most the next stream may inflate to.
    var nextStreamMaximum: Int { min(limits.perStream, remaining) }

    mutating func spend(_ bytes: Int) { remaining = max(0, remaining - bytes) }
}

/// Raw DEFLATE (RFC 1951, no zlib or gzip header), as Automerge uses for compressed change
/// chunks and document columns.
enum Deflate {
    /// The output grows in steps of at most this much, so a bomb stops at its bound plus one
    /// step instead of after allocating its whole claimed size.
    static let growthStep = 4 << 20

    /// Inflates one stream within `budget`, spending what it produced.
    /// - Throws: `inflatedSizeExceeded` as soon as the output would pass the budget (checked while
    ///   inflating, not after), `badDeflateStream` for corrupt or trailing data.
    static func inflate(_ bytes: ArraySlice<UInt8>, budget: inout InflationBudget) throws(AutomergeError) -> [UInt8] {
        let maximum = budget.nextStreamMaximum
        var input = ByteBufferAllocator().buffer(capacity: bytes.count)
        input.writeBytes(bytes)
        var output = ByteBufferAllocator().buffer(capacity: min(maximum, max(64, bytes.count * 4), growthStep))
        do {
            let decompressor = CompressionAlgorithm.deflate().decompressor
            try decompressor.startStream()
            defer { try? decompressor.finishStream() }
            while true {
                do {
                    try input.decompressStream(to: &output, with: decompressor)
                    break
                } catch let error as CompressNIOError where error == .bufferOverflow {
                    // The output is full (readable bytes == capacity).
                    guard output.readableBytes < maximum else { throw AutomergeError.inflatedSizeExceeded(limit: maximum) }
                    // Growing reallocates in place for large buffers; no second copy is held.
                    output.reserveCapacity(min(maximum, output.capacity + max(64, min(output.capacity, growthStep))))
                } catch let error as CompressNIOError where error == .inputBufferOverflow {
                    // The stream ended before the input did.
                    throw AutomergeError.badDeflateStream
                }
            }
            guard input.readableBytes == 0 else { throw AutomergeError.badDeflateStream }
            // The allocator may round capacity up past the bound.
            guard output.readableBytes <= maximum else { throw AutomergeError.inflatedSizeExceeded(limit: maximum) }
        } catch let error as AutomergeError {
            throw error
        } catch {
            throw .badDeflateStream
        }
        budget.spend(output.readableBytes)
        return output.readBytes(length: output.readableBytes) ?? []
    }

    /// Inflates one stream from trusted storage (`InflationLimits.storage`).
    static func inflate(_ bytes: ArraySlice<UInt8>) throws(AutomergeError) -> [UInt8] {
        var budget = InflationBudget(.storage)
        return try inflate(bytes, budget: &budget)
    }

    /// Input is fed to zlib this much at a time.
    static let deflatePiece = 1 << 20

    /// Compresses `bytes` as one raw DEFLATE stream, fed and drained in pieces: a large column
    /// costs its compressed size once, not also a copy of its input and an output buffer sized
    /// for the worst case. zlib's output does not depend on how the input is split (no flush
    /// until the end), so the bytes are those of a one-shot compression.
    static func deflate(_ bytes: [UInt8]) -> [UInt8] {
        let compressor = CompressionAlgorithm.deflate().compressor
        guard (try? compressor.startStream()) != nil else { return [] }
        defer { try? compressor.finishStream() }
        let allocator = ByteBufferAllocator()
        var input = allocator.buffer(capacity: min(bytes.count, deflatePiece))
        var window = allocator.buffer(capacity: 64 << 10)
        // Room for the worst case up front (DEFLATE grows incompressible input by a few bytes per
        // 16 KiB block): growing by doubling would copy the output and touch twice its pages;
        // reserved pages that are never written cost no memory.
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + bytes.count / 1000 + 64)
        var offset = 0
        repeat {
            let end = min(bytes.count, offset + deflatePiece)
            input.clear()
            input.writeBytes(bytes[offset..<end])
            offset = end
            let flush: CompressNIOFlush = offset == bytes.count ? .finish : .no
            while true {
                do {
                    try input.compressStream(to: &window, with: compressor, flush: flush)
                    if flush == .no && input.readableBytes > 0 { continue }
                    break
                } catch let error as CompressNIOError where error == .bufferOverflow {
                    // The window is full: drain it and go on where zlib stopped.
                    output.append(contentsOf: window.readableBytesView)
                    window.clear()
                } catch {
                    return []
                }
            }
            output.append(contentsOf: window.readableBytesView)
            window.clear()
        } while offset < bytes.count
        return output
    }
}
