extension Change {
    /// Decodes a change chunk completely.
    package init(chunk: ChangeChunk) throws(AutomergeError) {
        var reader = ByteReader(chunk.bytes, range: chunk.bodyStart..<chunk.bytes.count)
        let header = try ChangeHeader.read(&reader)
        let columns = try ColumnMetadata.locate(header.columns, in: &reader)
        let extra = Array(chunk.bytes[reader.offset..<reader.end])
        let actorCount = 1 + header.otherActors.count
        let (ops, unknown) = try Self.decodeOps(columns, bytes: chunk.bytes, actorCount: actorCount, startOp: header.startOp)
        self.init(
            deps: header.deps,
            actor: header.actor,
            seq: header.seq,
            startOp: header.startOp,
            time: header.time,
            message: header.message,
            otherActors: header.otherActors,
            ops: ops,
            extraBytes: extra,
            unknownColumns: unknown
        )
    }

    /// Decodes a change from chunk bytes (types 1 and 2).
    package init(bytes: [UInt8]) throws(AutomergeError) {
        var reader = ChunkReader(bytes)
        guard case .change(let chunk)? = try reader.next(), reader.isAtEnd else {
            throw .invalidColumns("expected exactly one change chunk")
        }
        try self.init(chunk: chunk)
    }

    private static func decodeOps(
        _ columns: [RawColumn],
        bytes: [UInt8],
        actorCount: Int,
        startOp: UInt64
    ) throws(AutomergeError) -> ([Op], [UnknownColumn]) {
        var readers: [ColumnSpec: ByteReader] = [:]
        var unknown: [UnknownColumn] = []
        for column in columns {
            if Self.knownSpecs.contains(column.spec) {
                readers[column.spec] = ByteReader(bytes, range: column.range)
            } else {
                guard column.spec.type != .value || columns.contains(where: { $0.spec.id == column.spec.id && $0.spec.type == .valueMetadata })
                else { throw .invalidColumns("value column \(column.spec) without metadata") }
                unknown.append(UnknownColumn(spec: column.spec, data: Array(bytes[column.range])))
            }
        }
        if readers[.value] != nil && readers[.valueMetadata] == nil { throw .invalidColumns("value column without metadata") }
        func reader(_ spec: ColumnSpec) -> ByteReader { readers[spec] ?? ByteReader([]) }

        var objActor = RLEDecoder<UInt64>(reader(.objActor))
        var objCounter = RLEDecoder<UInt64>(reader(.objCounter))
        var keyActor = RLEDecoder<UInt64>(reader(.keyActor))
        var keyCounter = DeltaDecoder(reader(.keyCounter))
        var keyString = RLEDecoder<String>(reader(.keyString))
        var insert = BooleanDecoder(reader(.insert))
        var action = RLEDecoder<UInt64>(reader(.action))
        var value = ValueDecoder(metadata: reader(.valueMetadata), raw: reader(.value))
        var predGroup = RLEDecoder<UInt64>(reader(.predGroup))
        var predActor = RLEDecoder<UInt64>(reader(.predActor))
        var predCounter = DeltaDecoder(reader(.predCounter))
        var expand = BooleanDecoder(reader(.expand))
        var markName = RLEDecoder<String>(reader(.markName))

        func actorIndex(_ raw: UInt64) throws(AutomergeError) -> Int {
            guard raw < UInt64(actorCount) else { throw .invalidColumns("actor index \(raw) out of range") }
            return Int(raw)
        }
        func counter(_ raw: UInt64) throws(AutomergeError) -> UInt64 {
            guard raw <= UInt64(UInt32.max) else { throw .counterTooLarge(raw) }
            return raw
        }

        var ops: [Op] = []
        while !action.isAtEnd {
            guard ops.count < 1 << 24 else { throw .invalidColumns("too many ops") }
            let object: ObjectId
            switch (try objActor.next(), try objCounter.next()) {
            case (nil, nil): object = .root
            case (let actor?, let ctr?): object = .op(OpId(counter: try counter(ctr), actor: try actorIndex(actor)))
            default: throw .invalidColumns("object actor and counter disagree on null")
            }
            let key: Key
            switch (try keyActor.next(), try keyCounter.next(), try keyString.next()) {
            case (nil, nil, let string?): key = .map(string)
            case (nil, 0?, nil): key = .head
            case (let actor?, let ctr?, nil) where ctr > 0:
                key = .element(OpId(counter: try counter(UInt64(ctr)), actor: try actorIndex(actor)))
            default: throw .invalidColumns("invalid key")
            }
            let isInsert = try insert.next()
            let rawAction = try action.nextNonNull("action")
            guard let typedAction = Action(rawValue: rawAction) else { throw .unknownAction(rawAction) }
            let opValue = try value.next()
            let predCount = try predGroup.next() ?? 0
            guard predCount <= UInt64(bytes.count) else { throw .invalidColumns("pred count \(predCount) too large") }
            var preds: [OpId] = []
            preds.reserveCapacity(Int(predCount))
            for _ in 0..<predCount {
                let actor = try actorIndex(try predActor.nextNonNull("pred actor"))
                guard let ctr = try predCounter.nextCounter("pred counter") else {
                    throw .invalidColumns("unexpected null in column pred counter")
                }
                preds.append(OpId(counter: ctr, actor: actor))
            }
            let isExpand = try expand.next()
            let name = try markName.next()
            ops.append(
                Op(
                    object: object,
                    key: key,
                    insert: isInsert,
                    action: typedAction,
                    value: opValue,
                    pred: preds,
                    expand: isExpand,
                    markName: name
                )
            )
        }
        guard
            objActor.isAtEnd && objCounter.isAtEnd && keyActor.isAtEnd && keyCounter.isAtEnd && keyString.isAtEnd
                && insert.isAtEnd && value.isAtEnd && predGroup.isAtEnd && predActor.isAtEnd && predCounter.isAtEnd
                && expand.isAtEnd && markName.isAtEnd
        else { throw .invalidColumns("op columns have different lengths") }
        if !ops.isEmpty {
            _ = try counter(startOp + UInt64(ops.count) - 1)
        }
        return (ops, unknown)
    }

    static let knownSpecs: Set<ColumnSpec> = [
        .objActor, .objCounter, .keyActor, .keyCounter, .keyString, .insert, .action, .valueMetadata, .value, .predGroup,
        .predActor, .predCounter, .expand, .markName,
    ]
}

/// The header of a change body, up to and including the column metadata.
struct ChangeHeader {
    var deps: [ChangeHash]
    var actor: ActorId
    var seq: UInt64
    var startOp: UInt64
    var time: Int64
    var message: String?
    var otherActors: [ActorId]
    var columns: [(ColumnSpec, Int)]

    static func read(_ reader: inout ByteReader) throws(AutomergeError) -> ChangeHeader {
        let deps = try reader.readHashArray("deps")
        let actor = ActorId(try reader.readLengthPrefixedBytes("actor"))
        let seq = try reader.readULEB("seq")
        let startOp = try reader.readULEB("startOp")
        guard seq <= UInt64(UInt32.max) else { throw .counterTooLarge(seq) }
        guard startOp <= UInt64(UInt32.max) else { throw .counterTooLarge(startOp) }
        // The reference parses startOp as a non-zero integer (its ids start at 1).
        guard startOp > 0 else { throw .invalidValue("startOp is 0") }
        let time = try reader.readSLEB("time")
        let message = try reader.readString("message")
        let others = try reader.readActorArray("other actors")
        let columns = try ColumnMetadata.read(&reader, allowDeflate: false)
        return ChangeHeader(
            deps: deps,
            actor: actor,
            seq: seq,
            startOp: startOp,
            time: time,
            message: message.isEmpty ? nil : message,
            otherActors: others,
            columns: columns
        )
    }
}
