import ByteEncodings
import Crypto

/// Writes a document chunk (docs/binary-format.md §5) from change rows and op rows, byte for byte as the
/// reference's `save()` / `saveNoCompress()` does.
///
/// Rows are appended one at a time, so a caller can stream them (an op set walking its objects
/// in document order never has to build an array of rows); `finish` then assembles the chunk.
/// The column encoders are the canonical ones of docs/binary-format.md §4.3 and the column-omission rules are
/// the reference's (docs/binary-format.md §5.2, §5.3): a column is left out when it has no bytes (empty, all
/// null), and `expand` when no op has it set; so id, insert, action, value metadata and succ
/// count are always present once there is an op, and every change row writes an extra-bytes
/// metadata entry of type 7 (bytes), length 0 when it has none.
///
/// The writer checks what a reader of the chunk checks (actor indexes, per-actor seq and maxOp
/// order, dep rows that point backwards, counters within the reference's u32 range, head rows),
/// so its output always parses; it does not check CRDT consistency such as document order.
package struct DocumentWriter: Sendable {
    /// How the columns are stored.
    package enum Compression: Sendable, Equatable {
        /// Every column as is (`saveNoCompress`).
        case none
        /// Raw DEFLATE for every column of at least `threshold` bytes (`save`: 256), with the
        /// deflate bit set in its spec.
        case deflate(threshold: Int)

        /// What the reference's `save()` does.
        package static let reference = Compression.deflate(threshold: 256)
    }

    /// The document's actor table, sorted by bytes.
    package let actors: [ActorId]
    /// Rows appended so far.
    package private(set) var changeCount = 0
    package private(set) var opCount = 0

    private var lastSeq: [UInt64]
    private var lastMaxOp: [UInt64]

    // Change columns (docs/binary-format.md §5.2).
    private var changeActor = RLEEncoder<UInt64>()
    private var changeSeq = DeltaEncoder()
    private var changeMaxOp = DeltaEncoder()
    private var changeTime = DeltaEncoder()
    private var changeMessage = RLEEncoder<String>()
    private var depsCount = RLEEncoder<UInt64>()
    private var depsIndex = DeltaEncoder()
    private var extra = ValueEncoder()

    // Op columns (docs/binary-format.md §5.3).
    private var objActor = RLEEncoder<UInt64>()
    private var objCounter = RLEEncoder<UInt64>()
    private var keyActor = RLEEncoder<UInt64>()
    private var keyCounter = DeltaEncoder()
    private var keyString = RLEEncoder<String>()
    private var idActor = RLEEncoder<UInt64>()
    private var idCounter = DeltaEncoder()
    private var insert = BooleanEncoder()
    private var action = RLEEncoder<UInt64>()
    private var value = ValueEncoder()
    private var succCount = RLEEncoder<UInt64>()
    private var succActor = RLEEncoder<UInt64>()
    private var succCounter = DeltaEncoder()
    private var expand = BooleanEncoder()
    private var markName = RLEEncoder<String>()

    /// Starts a document with this actor table, which must be sorted by bytes without repeats
    /// (every actor index in the rows refers to it).
    package init(actors: [ActorId]) throws(AutomergeError) {
        for index in actors.indices.dropFirst() where !(actors[index - 1] < actors[index]) {
            throw .invalidDocument("actor table not sorted by bytes at index \(index)")
        }
        self.actors = actors
        lastSeq = [UInt64](repeating: 0, count: actors.count)
        lastMaxOp = [UInt64](repeating: 0, count: actors.count)
    }

    /// Appends the next change row. Rows must be in a topological order: deps are earlier rows,
    /// each actor's seqs increase and its maxOps never decrease. A row that throws leaves the
    /// writer unchanged.
    package mutating func append(_ change: DocumentChangeRow) throws(AutomergeError) {
        let row = changeCount
        try checkActor(change.actor, "change \(row)")
        guard change.seq > lastSeq[change.actor], change.seq <= UInt64(UInt32.max) else {
            throw .invalidDocument("change \(row): seq \(change.seq) does not follow seq \(lastSeq[change.actor]) of its actor")
        }
        guard change.maxOp >= lastMaxOp[change.actor], change.maxOp <= UInt64(UInt32.max) else {
            throw .invalidDocument("change \(row): maxOp \(change.maxOp) is below its actor's previous \(lastMaxOp[change.actor])")
        }
        for (position, dep) in change.dependencies.enumerated() {
            guard dep >= 0, dep < row else { throw .invalidDocument("change \(row) depends on row \(dep), which is not an earlier row") }
            guard !change.dependencies[..<position].contains(dep) else { throw .invalidDocument("change \(row) lists dep row \(dep) twice") }
        }
        lastSeq[change.actor] = change.seq
        lastMaxOp[change.actor] = change.maxOp
        changeActor.appendValue(UInt64(change.actor))
        changeSeq.append(Int64(change.seq))
        changeMaxOp.append(Int64(change.maxOp))
        changeTime.append(change.time)
        changeMessage.append(change.message)
        depsCount.appendValue(UInt64(change.dependencies.count))
        for dep in change.dependencies { depsIndex.append(Int64(dep)) }
        extra.append(.bytes(change.extraBytes))
        changeCount += 1
    }

    /// Appends the next op row (rows must come in document order, docs/binary-format.md §5.4). A row that
    /// throws leaves the writer unchanged.
    package mutating func append(_ op: DocumentOpRow) throws(AutomergeError) {
        let row = opCount
        if case .op(let id) = op.object { try checkId(id, "object of op \(row)") }
        if case .element(let id) = op.key { try checkId(id, "key of op \(row)") }
        try checkId(op.id, "id of op \(row)")
        guard op.action != .delete else { throw .invalidDocument("op \(row) is a delete: documents store deletes as successors") }
        if case .unknown(let code, _) = op.value, !(10...15).contains(code) {
            throw .invalidValue("op \(row): unknown value type code \(code) (must be 10–15)")
        }
        for successor in op.successors { try checkId(successor, "successor of op \(row)") }

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
        idActor.appendValue(UInt64(op.id.actor))
        idCounter.append(Int64(op.id.counter))
        insert.append(op.insert)
        action.appendValue(op.action.rawValue)
        value.append(op.value)
        succCount.appendValue(UInt64(op.successors.count))
        for successor in op.successors {
            succActor.appendValue(UInt64(successor.actor))
            succCounter.append(Int64(successor.counter))
        }
        expand.append(op.expand)
        markName.append(op.markName)
        opCount += 1
    }

    /// Assembles the chunk: header, actors, heads (sorted by hash), column metadata and data,
    /// then one head index per head. `heads` name the changes no other change depends on.
    package consuming func finish(heads: [DocumentHead], compression: Compression) throws(AutomergeError) -> [UInt8] {
        let sortedHeads = heads.sorted { $0.hash < $1.hash }
        for (index, head) in sortedHeads.enumerated() {
            guard head.row >= 0, head.row < changeCount else {
                throw .invalidDocument("head \(head.hash) names row \(head.row) of \(changeCount)")
            }
            if index > 0 && sortedHeads[index - 1].hash == head.hash { throw .invalidDocument("head \(head.hash) given twice") }
        }
        let extraColumns = extra.finish()
        let expandBytes = expand.finish()
        let changeColumns: [(ColumnSpec, [UInt8])] = [
            (.changeActor, changeActor.finish()),
            (.changeSeq, changeSeq.finish()),
            (.changeMaxOp, changeMaxOp.finish()),
            (.changeTime, changeTime.finish()),
            (.changeMessage, changeMessage.finish()),
            (.changeDepsGroup, depsCount.finish()),
            (.changeDepsIndex, depsIndex.finish()),
            (.changeExtraMetadata, extraColumns.metadata),
            (.changeExtraValue, extraColumns.raw),
        ]
        let valueColumns = value.finish()
        let opColumns: [(ColumnSpec, [UInt8])] = [
            (.objActor, objActor.finish()),
            (.objCounter, objCounter.finish()),
            (.keyActor, keyActor.finish()),
            (.keyCounter, keyCounter.finish()),
            (.keyString, keyString.finish()),
            (.idActor, idActor.finish()),
            (.idCounter, idCounter.finish()),
            (.insert, insert.finish()),
            (.action, action.finish()),
            (.valueMetadata, valueColumns.metadata),
            (.value, valueColumns.raw),
            (.succGroup, succCount.finish()),
            (.succActor, succActor.finish()),
            (.succCounter, succCounter.finish()),
            (.expand, expand.sawTrue ? expandBytes : []),
            (.markName, markName.finish()),
        ]
        let storedChanges = Self.stored(changeColumns, compression: compression)
        let storedOps = Self.stored(opColumns, compression: compression)

        var body = ByteWriter(capacity: storedChanges.reduce(0) { $0 + $1.1.count } + storedOps.reduce(0) { $0 + $1.1.count } + 64)
        body.writeActorArray(actors)
        body.writeHashArray(sortedHeads.map(\.hash))
        ColumnMetadata.write(storedChanges, to: &body)
        ColumnMetadata.write(storedOps, to: &body)
        for (_, data) in storedChanges { body.writeBytes(data) }
        for (_, data) in storedOps { body.writeBytes(data) }
        for head in sortedHeads { body.writeULEB(UInt64(head.row)) }
        return Self.chunk(type: .document, body: body.bytes)
    }

    /// Writes a whole document in one call.
    package static func write(
        actors: [ActorId],
        changes: some Sequence<DocumentChangeRow>,
        ops: some Sequence<DocumentOpRow>,
        heads: [DocumentHead],
        compression: Compression = .reference
    ) throws(AutomergeError) -> [UInt8] {
        var writer = try DocumentWriter(actors: actors)
        for change in changes { try writer.append(change) }
        for op in ops { try writer.append(op) }
        return try writer.finish(heads: heads, compression: compression)
    }

    /// Drops empty columns and DEFLATEs the large ones (keeping a column uncompressed in the
    /// unlikely case that compression fails: the output stays valid).
    static func stored(_ columns: [(ColumnSpec, [UInt8])], compression: Compression) -> [(ColumnSpec, [UInt8])] {
        var result: [(ColumnSpec, [UInt8])] = []
        result.reserveCapacity(columns.count)
        for (spec, data) in columns where !data.isEmpty {
            if case .deflate(let threshold) = compression, data.count >= threshold {
                let compressed = Deflate.deflate(data)
                if !compressed.isEmpty {
                    result.append((spec.deflated, compressed))
                    continue
                }
            }
            result.append((spec, data))
        }
        return result
    }

    /// Wraps a body in a chunk header (docs/binary-format.md §2): magic, checksum, type, length.
    static func chunk(type: ChunkType, body: [UInt8]) -> [UInt8] {
        var header: [UInt8] = [type.rawValue]
        LEB128.appendUnsigned(UInt64(body.count), to: &header)
        var hasher = SHA256()
        hasher.update(data: header)
        hasher.update(data: body)
        let digest = hasher.finalize()
        var bytes = Chunk.magic
        bytes.reserveCapacity(8 + header.count + body.count)
        bytes.append(contentsOf: digest.prefix(4))
        bytes.append(contentsOf: header)
        bytes.append(contentsOf: body)
        return bytes
    }

    private func checkActor(_ actor: Int, _ what: @autoclosure () -> String) throws(AutomergeError) {
        guard actor >= 0, actor < actors.count else {
            throw .invalidDocument("\(what()): actor index \(actor) outside the table of \(actors.count)")
        }
    }

    private func checkId(_ id: OpId, _ what: @autoclosure () -> String) throws(AutomergeError) {
        try checkActor(id.actor, what())
        guard id.counter > 0, id.counter <= UInt64(UInt32.max) else {
            throw .invalidDocument("\(what()): op counter \(id.counter) outside 1…\(UInt32.max)")
        }
    }
}
