import ByteEncodings

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
        beginOps()
        for op in change.ops {
            switch op.object {
            case .root: appendRootObject()
            case .op(let id): appendObject(counter: id.counter, actor: id.actor)
            }
            switch op.key {
            case .map(let key): appendMapKey(key)
            case .head: appendHeadKey()
            case .element(let id): appendElementKey(counter: id.counter, actor: id.actor)
            }
            insert.append(op.insert)
            action.appendValue(op.action.rawValue)
            value.append(op.value)
            predGroup.appendValue(UInt64(op.pred.count))
            for pred in op.pred { appendPred(counter: pred.counter, actor: pred.actor) }
            expand.append(op.expand)
            markName.append(op.markName)
        }
        return finish(
            deps: change.deps,
            actor: change.actor,
            seq: change.seq,
            startOp: change.startOp,
            time: change.time,
            message: change.message,
            otherActors: change.otherActors,
            extraBytes: change.extraBytes[...],
            unknownColumns: change.unknownColumns
        )
    }

    // MARK: Op-by-op encoding, for callers that hold ops in their own representation.

    mutating func beginOps() {
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
    }

    @inline(__always) mutating func appendRootObject() {
        objActor.appendNull()
        objCounter.appendNull()
    }

    @inline(__always) mutating func appendObject(counter: UInt64, actor: Int) {
        objActor.appendValue(UInt64(actor))
        objCounter.appendValue(counter)
    }

    @inline(__always) mutating func appendMapKey(_ key: String) {
        keyActor.appendNull()
        keyCounter.append(nil)
        keyString.appendValue(key)
    }

    @inline(__always) mutating func appendHeadKey() {
        keyActor.appendNull()
        keyCounter.append(0)
        keyString.appendNull()
    }

    @inline(__always) mutating func appendElementKey(counter: UInt64, actor: Int) {
        keyActor.appendValue(UInt64(actor))
        keyCounter.append(Int64(counter))
        keyString.appendNull()
    }

    /// The rest of one op; preds follow with `appendPred`.
    @inline(__always) mutating func appendOpBody(
        insert isInsert: Bool,
        action actionCode: UInt64,
        valueMetadata: UInt64,
        valueBytes: ArraySlice<UInt8>,
        predCount: Int,
        expand isExpand: Bool,
        markName name: String?
    ) {
        insert.append(isInsert)
        action.appendValue(actionCode)
        value.appendRaw(metadata: valueMetadata, bytes: valueBytes)
        predGroup.appendValue(UInt64(predCount))
        expand.append(isExpand)
        markName.append(name)
    }

    @inline(__always) mutating func appendPred(counter: UInt64, actor: Int) {
        predActor.appendValue(UInt64(actor))
        predCounter.append(Int64(counter))
    }

    /// Finishes the columns, writes the header and chunk, and returns the change hash.
    mutating func finish(
        deps: [ChangeHash],
        actor: ActorId,
        seq: UInt64,
        startOp: UInt64,
        time: Int64,
        message: String?,
        otherActors: [ActorId],
        extraBytes: ArraySlice<UInt8>,
        unknownColumns: [Change.UnknownColumn] = []
    ) -> ChangeHash {
        finish(
            deps: deps,
            actor: actor,
            seq: seq,
            startOp: startOp,
            time: time,
            message: message,
            extraBytes: extraBytes,
            unknownColumns: unknownColumns
        ) { writer in writer.writeActorArray(otherActors) }
    }

    /// `finish`, with the other actors given as indexes into `table` (the rebuild's form: no
    /// array of actor ids is built per change).
    mutating func finish(
        deps: [ChangeHash],
        actor: ActorId,
        seq: UInt64,
        startOp: UInt64,
        time: Int64,
        message: String?,
        otherActors: [Int],
        in table: [ActorId],
        extraBytes: ArraySlice<UInt8>
    ) -> ChangeHash {
        finish(
            deps: deps,
            actor: actor,
            seq: seq,
            startOp: startOp,
            time: time,
            message: message,
            extraBytes: extraBytes,
            unknownColumns: []
        ) { writer in
            writer.writeULEB(UInt64(otherActors.count))
            for index in otherActors { writer.writeLengthPrefixed(table[index].bytes) }
        }
    }

    private mutating func finish(
        deps: [ChangeHash],
        actor: ActorId,
        seq: UInt64,
        startOp: UInt64,
        time: Int64,
        message: String?,
        extraBytes: ArraySlice<UInt8>,
        unknownColumns: [Change.UnknownColumn],
        writeOtherActors: (inout ByteWriter) -> Void
    ) -> ChangeHash {
        objActor.flush()
        objCounter.flush()
        keyActor.flush()
        keyCounter.flush()
        keyString.flush()
        insert.flush()
        action.flush()
        value.flush()
        predGroup.flush()
        predActor.flush()
        predCounter.flush()
        expand.flush()
        markName.flush()

        body.removeAll(keepingCapacity: true)
        var writer = ByteWriter()
        swap(&writer.bytes, &body)
        writer.writeHashArray(deps)
        writer.writeLengthPrefixed(actor.bytes)
        writer.writeULEB(seq)
        writer.writeULEB(startOp)
        writer.writeSLEB(time)
        writer.writeString(message ?? "")
        writeOtherActors(&writer)
        if unknownColumns.isEmpty {
            writeColumns(to: &writer)
        } else {
            var columns = knownColumns().filter { !$0.1.isEmpty }
            columns.append(contentsOf: unknownColumns.map { ($0.spec, $0.data) })
            columns.sort { $0.0.normalized < $1.0.normalized }
            ColumnMetadata.write(columns, to: &writer)
            for (_, data) in columns { writer.writeBytes(data) }
        }
        writer.writeBytes(extraBytes)
        swap(&writer.bytes, &body)

        chunk.removeAll(keepingCapacity: true)
        chunk.append(contentsOf: Chunk.magic)
        // Checksum placeholder (filled in below) and type, byte by byte: no array per change.
        for _ in 0..<4 { chunk.append(0) }
        chunk.append(ChunkType.change.rawValue)
        LEB128.appendUnsigned(UInt64(body.count), to: &chunk)
        chunk.append(contentsOf: body)
        let hash = ChangeHash.sha256(of: chunk, 8..<chunk.count)
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
    ///
    /// Written out column by column rather than through a list or closure: this runs once per
    /// rebuilt change, and a list of the fourteen buffers costs an allocation and 28 reference
    /// count operations each time.
    private func writeColumns(to writer: inout ByteWriter) {
        let sizes = (
            objActor.bytes.count, objCounter.bytes.count, keyActor.bytes.count, keyCounter.bytes.count,
            keyString.bytes.count, insert.bytes.count, action.bytes.count, value.metadataBytes.count, value.raw.count,
            predGroup.bytes.count, predActor.bytes.count, predCounter.bytes.count, expand.sawTrue ? expand.bytes.count : 0,
            markName.bytes.count
        )
        var count: UInt64 = 0
        func counted(_ size: Int) { if size > 0 { count += 1 } }
        counted(sizes.0)
        counted(sizes.1)
        counted(sizes.2)
        counted(sizes.3)
        counted(sizes.4)
        counted(sizes.5)
        counted(sizes.6)
        counted(sizes.7)
        counted(sizes.8)
        counted(sizes.9)
        counted(sizes.10)
        counted(sizes.11)
        counted(sizes.12)
        counted(sizes.13)
        writer.writeULEB(count)
        func meta(_ spec: ColumnSpec, _ size: Int) {
            guard size > 0 else { return }
            writer.writeULEB(UInt64(spec.rawValue))
            writer.writeULEB(UInt64(size))
        }
        meta(.objActor, sizes.0)
        meta(.objCounter, sizes.1)
        meta(.keyActor, sizes.2)
        meta(.keyCounter, sizes.3)
        meta(.keyString, sizes.4)
        meta(.insert, sizes.5)
        meta(.action, sizes.6)
        meta(.valueMetadata, sizes.7)
        meta(.value, sizes.8)
        meta(.predGroup, sizes.9)
        meta(.predActor, sizes.10)
        meta(.predCounter, sizes.11)
        meta(.expand, sizes.12)
        meta(.markName, sizes.13)
        writer.bytes.append(contentsOf: objActor.bytes)
        writer.bytes.append(contentsOf: objCounter.bytes)
        writer.bytes.append(contentsOf: keyActor.bytes)
        writer.bytes.append(contentsOf: keyCounter.bytes)
        writer.bytes.append(contentsOf: keyString.bytes)
        writer.bytes.append(contentsOf: insert.bytes)
        writer.bytes.append(contentsOf: action.bytes)
        writer.bytes.append(contentsOf: value.metadataBytes)
        writer.bytes.append(contentsOf: value.raw)
        writer.bytes.append(contentsOf: predGroup.bytes)
        writer.bytes.append(contentsOf: predActor.bytes)
        writer.bytes.append(contentsOf: predCounter.bytes)
        if sizes.12 > 0 { writer.bytes.append(contentsOf: expand.bytes) }
        writer.bytes.append(contentsOf: markName.bytes)
    }
}
