import Crypto

/// Encodes changes canonically, reusing its column buffers from one change to the next so
/// that rebuilding hundreds of thousands of changes does not allocate per column.
struct ChangeEncoder {
    private var objActor = RLEEncoder<UInt64>()
    private var objCounter = RLEEncoder<UInt64>()
    private var keyActor = RLEEncoder<UInt64>()
    private var keyCounter = DeltaEncoder()
    private var keyString = RLEEncoder<String>()
    private var insert = BooleanEncoder()
    private var action = RLEEncoder<UInt64>()
    private var value = ValueEncoder()
    private var predGroup = RLEEncoder<UInt64>()
    private var predActor = RLEEncoder<UInt64>()
    private var predCounter = DeltaEncoder()
    private var expand = BooleanEncoder()
    private var markName = RLEEncoder<String>()
    private var body: [UInt8] = []
    /// The last encoded chunk (magic, checksum, type, length, body).
    private(set) var chunk: [UInt8] = []

    /// Encodes `change` into `chunk` and returns its hash.
    mutating func encode(_ change: Change) -> ChangeHash {
        body.removeAll(keepingCapacity: true)
        var writer = ByteWriter()
        swap(&writer.bytes, &body)
        writer.writeHashArray(change.deps)
        writer.writeLengthPrefixed(change.actor.bytes)
        writer.writeULEB(change.seq)
        writer.writeULEB(change.startOp)
        writer.writeSLEB(change.time)
        writer.writeString(change.message ?? "")
        writer.writeActorArray(change.otherActors)
        encodeColumns(change.ops)
        if change.unknownColumns.isEmpty {
            writeColumns(to: &writer)
        } else {
            var columns = knownColumns().filter { !$0.1.isEmpty }
            columns.append(contentsOf: change.unknownColumns.map { ($0.spec, $0.data) })
            columns.sort { $0.0.normalized < $1.0.normalized }
            ColumnMetadata.write(columns, to: &writer)
            for (_, data) in columns { writer.writeBytes(data) }
        }
        writer.writeBytes(change.extraBytes)
        swap(&writer.bytes, &body)

        chunk.removeAll(keepingCapacity: true)
        chunk.append(contentsOf: Chunk.magic)
        chunk.append(contentsOf: [0, 0, 0, 0, ChunkType.change.rawValue])
        LEB128.appendUnsigned(UInt64(body.count), to: &chunk)
        chunk.append(contentsOf: body)
        let hash = SHA256.hash(data: chunk[8...]).withUnsafeBytes { ChangeHash($0) }
        let checksum = hash.checksum
        chunk[4] = checksum.0
        chunk[5] = checksum.1
        chunk[6] = checksum.2
        chunk[7] = checksum.3
        return hash
    }

    private func knownColumns() -> [(ColumnSpec, [UInt8])] {
        [
            (.objActor, objActor.bytes), (.objCounter, objCounter.bytes), (.keyActor, keyActor.bytes),
            (.keyCounter, keyCounter.bytes), (.keyString, keyString.bytes), (.insert, insert.bytes), (.action, action.bytes),
            (.valueMetadata, value.metadataBytes), (.value, value.raw), (.predGroup, predGroup.bytes),
            (.predActor, predActor.bytes), (.predCounter, predCounter.bytes), (.expand, expand.sawTrue ? expand.bytes : []),
            (.markName, markName.bytes),
        ]
    }

    /// Writes the metadata of the non-empty known columns, then their data, in spec order
    /// (`expand` only when some op has it set, as the reference does).
    private func writeColumns(to writer: inout ByteWriter) {
        let expandBytes = expand.sawTrue ? expand.bytes : []
        func each(_ body: (ColumnSpec, [UInt8]) -> Void) {
            body(.objActor, objActor.bytes)
            body(.objCounter, objCounter.bytes)
            body(.keyActor, keyActor.bytes)
            body(.keyCounter, keyCounter.bytes)
            body(.keyString, keyString.bytes)
            body(.insert, insert.bytes)
            body(.action, action.bytes)
            body(.valueMetadata, value.metadataBytes)
            body(.value, value.raw)
            body(.predGroup, predGroup.bytes)
            body(.predActor, predActor.bytes)
            body(.predCounter, predCounter.bytes)
            body(.expand, expandBytes)
            body(.markName, markName.bytes)
        }
        var count: UInt64 = 0
        each { _, data in if !data.isEmpty { count += 1 } }
        writer.writeULEB(count)
        each { spec, data in
            guard !data.isEmpty else { return }
            writer.writeULEB(UInt64(spec.rawValue))
            writer.writeULEB(UInt64(data.count))
        }
        each { _, data in if !data.isEmpty { writer.writeBytes(data) } }
    }

    private mutating func encodeColumns(_ ops: [Op]) {
        objActor.reset()
        objCounter.reset()
        keyActor.reset()
        keyCounter.reset()
        keyString.reset()
        insert.reset()
        action.reset()
        value.reset()
        predGroup.reset()
        predActor.reset()
        predCounter.reset()
        expand.reset()
        markName.reset()
        for op in ops {
            switch op.object {
            case .root:
                objActor.appendNull()
                objCounter.appendNull()
            case .op(let id):
                objActor.appendValue(UInt64(id.actor))
                objCounter.appendValue(id.counter)
            }
            switch op.key {
            case .map(let key):
                keyActor.appendNull()
                keyCounter.append(nil)
                keyString.appendValue(key)
            case .head:
                keyActor.appendNull()
                keyCounter.append(0)
                keyString.appendNull()
            case .element(let id):
                keyActor.appendValue(UInt64(id.actor))
                keyCounter.append(Int64(id.counter))
                keyString.appendNull()
            }
            insert.append(op.insert)
            action.appendValue(op.action.rawValue)
            value.append(op.value)
            predGroup.appendValue(UInt64(op.pred.count))
            for pred in op.pred {
                predActor.appendValue(UInt64(pred.actor))
                predCounter.append(Int64(pred.counter))
            }
            expand.append(op.expand)
            markName.append(op.markName)
        }
        objActor.finish()
        objCounter.finish()
        keyActor.finish()
        keyCounter.finish()
        keyString.finish()
        insert.finish()
        action.finish()
        _ = value.finish()
        predGroup.finish()
        predActor.finish()
        predCounter.finish()
        expand.finish()
        markName.finish()
    }
}
