import ByteEncodings

/// The rebuild's change encoder: the canonical change chunk of `ChangeEncoder`, byte for byte, with
/// its columns and chunk in raw buffers reused from one change to the next.
///
/// A document rebuild encodes every change it holds (essay.amrg: 263k changes of two ops on
/// average), so the fixed cost per change decides its speed: here a change resets a few scalars
/// per column, writes its header once into the chunk buffer (which keeps room in front for the
/// chunk's own header), copies each column once, and hashes the chunk where it lies.
///
/// A value type owning raw memory: whoever creates one calls `deallocate()` once.
struct RebuildChangeEncoder {
    var objActor = RunColumnWriter(.unsigned)
    var objCounter = RunColumnWriter(.unsigned)
    var keyActor = RunColumnWriter(.unsigned)
    var keyCounter = DeltaColumnWriter()
    var keyString = RunColumnWriter(.string)
    var insert = BooleanColumnWriter()
    var action = RunColumnWriter(.unsigned)
    var valueMetadata = RunColumnWriter(.unsigned)
    var value = RawByteBuffer(capacity: 256)
    var predGroup = RunColumnWriter(.unsigned)
    var predActor = RunColumnWriter(.unsigned)
    var predCounter = DeltaColumnWriter()
    var expand = BooleanColumnWriter()
    var markName = RunColumnWriter(.string)
    private var chunk = RawByteBuffer(capacity: 1024)
    /// The actor table, each id length-prefixed, one after another (`actorStarts[i]..<actorStarts[i + 1]`).
    private let actorBytes: [UInt8]
    private let actorStarts: [Int]

    /// Room before the body for the chunk header: magic (4), checksum (4), type (1), length (≤ 10).
    private static let headroom = 19

    init(actors: [ActorId]) {
        var bytes: [UInt8] = []
        var starts = [0]
        for actor in actors {
            LEB128.appendUnsigned(UInt64(actor.bytes.count), to: &bytes)
            bytes.append(contentsOf: actor.bytes)
            starts.append(bytes.count)
        }
        actorBytes = bytes
        actorStarts = starts
    }

    func deallocate() {
        objActor.deallocate()
        objCounter.deallocate()
        keyActor.deallocate()
        keyCounter.deallocate()
        keyString.deallocate()
        insert.deallocate()
        action.deallocate()
        valueMetadata.deallocate()
        value.deallocate()
        predGroup.deallocate()
        predActor.deallocate()
        predCounter.deallocate()
        expand.deallocate()
        markName.deallocate()
        chunk.deallocate()
    }

    mutating func beginOps() {
        objActor.reset()
        objCounter.reset()
        keyActor.reset()
        keyCounter.reset()
        keyString.reset()
        insert.reset()
        action.reset()
        valueMetadata.reset()
        value.count = 0
        predGroup.reset()
        predActor.reset()
        predCounter.reset()
        expand.reset()
        markName.reset()
    }

    /// Finishes the change begun with `beginOps()`: its header (`author` and `otherActors` index
    /// the actor table), columns and extra bytes; returns its hash and the chunk, valid until
    /// the next `beginOps()`.
    mutating func finish(
        deps: [ChangeHash],
        author: Int,
        seq: UInt64,
        startOp: UInt64,
        time: Int64,
        message: String?,
        otherActors: [Int],
        extraBytes: ArraySlice<UInt8>,
        strings: EncodedStrings
    ) -> (hash: ChangeHash, chunk: UnsafeRawBufferPointer) {
        objActor.flush(strings)
        objCounter.flush(strings)
        keyActor.flush(strings)
        keyCounter.flush()
        keyString.flush(strings)
        insert.flush()
        action.flush(strings)
        valueMetadata.flush(strings)
        predGroup.flush(strings)
        predActor.flush(strings)
        predCounter.flush()
        expand.flush()
        markName.flush(strings)

        chunk.count = Self.headroom
        chunk.appendUnsigned(UInt64(deps.count))
        for dep in deps { chunk.append(dep) }
        actorBytes.withUnsafeBytes { table in
            chunk.append(UnsafeRawBufferPointer(rebasing: table[actorStarts[author]..<actorStarts[author + 1]]))
            chunk.appendUnsigned(seq)
            chunk.appendUnsigned(startOp)
            chunk.appendSigned(time)
            if var message {
                message.withUTF8 { utf8 in
                    chunk.appendUnsigned(UInt64(utf8.count))
                    chunk.append(UnsafeRawBufferPointer(utf8))
                }
            } else {
                chunk.append(0)
            }
            chunk.appendUnsigned(UInt64(otherActors.count))
            for index in otherActors {
                chunk.append(UnsafeRawBufferPointer(rebasing: table[actorStarts[index]..<actorStarts[index + 1]]))
            }
        }
        writeColumns()
        chunk.append(extraBytes)

        // The chunk header, just before the body: magic, checksum (after hashing), type, length.
        let bodyLength = chunk.count - Self.headroom
        let start = Self.headroom - 9 - RawByteBuffer.unsignedSize(UInt64(bodyLength))
        let base = chunk.base
        base[start] = 0x85
        base[start + 1] = 0x6f
        base[start + 2] = 0x4a
        base[start + 3] = 0x83
        base[start + 8] = ChunkType.change.rawValue
        let end = chunk.count
        chunk.count = start + 9
        chunk.appendUnsigned(UInt64(bodyLength))
        chunk.count = end
        let hash = ChangeHash.sha256(of: UnsafeRawBufferPointer(start: base + start + 8, count: end - start - 8))
        let checksum = hash.checksum
        base[start + 4] = checksum.0
        base[start + 5] = checksum.1
        base[start + 6] = checksum.2
        base[start + 7] = checksum.3
        return (hash, UnsafeRawBufferPointer(start: base + start, count: end - start))
    }

    /// The metadata of the non-empty columns, then their data, in spec order (`expand` only when
    /// some op has it set, as the reference does), as `ChangeEncoder.writeColumns` writes them.
    private mutating func writeColumns() {
        let expandCount = expand.sawTrue ? expand.out.count : 0
        // Counted without a list of the sizes (an array per change).
        var columns = 0
        @inline(__always) func count(_ size: Int) { if size > 0 { columns += 1 } }
        count(objActor.out.count)
        count(objCounter.out.count)
        count(keyActor.out.count)
        count(keyCounter.out.count)
        count(keyString.out.count)
        count(insert.out.count)
        count(action.out.count)
        count(valueMetadata.out.count)
        count(value.count)
        count(predGroup.out.count)
        count(predActor.out.count)
        count(predCounter.out.count)
        count(expandCount)
        count(markName.out.count)
        chunk.appendUnsigned(UInt64(columns))
        meta(.objActor, objActor.out.count)
        meta(.objCounter, objCounter.out.count)
        meta(.keyActor, keyActor.out.count)
        meta(.keyCounter, keyCounter.out.count)
        meta(.keyString, keyString.out.count)
        meta(.insert, insert.out.count)
        meta(.action, action.out.count)
        meta(.valueMetadata, valueMetadata.out.count)
        meta(.value, value.count)
        meta(.predGroup, predGroup.out.count)
        meta(.predActor, predActor.out.count)
        meta(.predCounter, predCounter.out.count)
        meta(.expand, expandCount)
        meta(.markName, markName.out.count)
        chunk.append(objActor.out.bytes)
        chunk.append(objCounter.out.bytes)
        chunk.append(keyActor.out.bytes)
        chunk.append(keyCounter.out.bytes)
        chunk.append(keyString.out.bytes)
        chunk.append(insert.out.bytes)
        chunk.append(action.out.bytes)
        chunk.append(valueMetadata.out.bytes)
        chunk.append(value.bytes)
        chunk.append(predGroup.out.bytes)
        chunk.append(predActor.out.bytes)
        chunk.append(predCounter.out.bytes)
        if expandCount > 0 { chunk.append(expand.out.bytes) }
        chunk.append(markName.out.bytes)
    }

    @inline(__always) private mutating func meta(_ spec: ColumnSpec, _ size: Int) {
        guard size > 0 else { return }
        chunk.appendUnsigned(UInt64(spec.rawValue))
        chunk.appendUnsigned(UInt64(size))
    }
}
