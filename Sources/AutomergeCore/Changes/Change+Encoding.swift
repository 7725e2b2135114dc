extension Change {
    /// The canonical change chunk for this change.
    public func encodeChunk() -> ChangeChunk { ChangeChunk(body: encodeBody()) }

    /// The canonical body: header fields, op column metadata, op columns, extra bytes.
    public func encodeBody() -> [UInt8] {
        var writer = ByteWriter(capacity: 64 + ops.count * 8)
        writer.writeHashArray(deps)
        writer.writeLengthPrefixed(actor.bytes)
        writer.writeULEB(seq)
        writer.writeULEB(startOp)
        writer.writeSLEB(time)
        writer.writeString(message ?? "")
        writer.writeActorArray(otherActors)
        var columns = Self.encodeOpColumns(ops)
        if !unknownColumns.isEmpty {
            columns.append(contentsOf: unknownColumns.map { ($0.spec, $0.data) })
            columns.sort { $0.0.normalized < $1.0.normalized }
        }
        ColumnMetadata.write(columns, to: &writer)
        for (_, data) in columns { writer.writeBytes(data) }
        writer.writeBytes(extraBytes)
        return writer.bytes
    }

    /// Encodes ops into the change op columns, omitting empty columns (and `expand` when it is
    /// all false), as the reference does.
    static func encodeOpColumns(_ ops: [Op]) -> [(ColumnSpec, [UInt8])] {
        var objActor = RLEEncoder<UInt64>()
        var objCounter = RLEEncoder<UInt64>()
        var keyActor = RLEEncoder<UInt64>()
        var keyCounter = DeltaEncoder()
        var keyString = RLEEncoder<String>()
        var insert = BooleanEncoder()
        var action = RLEEncoder<UInt64>()
        var value = ValueEncoder()
        var predGroup = RLEEncoder<UInt64>()
        var predActor = RLEEncoder<UInt64>()
        var predCounter = DeltaEncoder()
        var expand = BooleanEncoder()
        var markName = RLEEncoder<String>()

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

        let (valueMeta, valueRaw) = value.finish()
        let expandBytes = expand.sawTrue ? expand.finish() : []
        let columns: [(ColumnSpec, [UInt8])] = [
            (.objActor, objActor.finish()),
            (.objCounter, objCounter.finish()),
            (.keyActor, keyActor.finish()),
            (.keyCounter, keyCounter.finish()),
            (.keyString, keyString.finish()),
            (.insert, insert.finish()),
            (.action, action.finish()),
            (.valueMetadata, valueMeta),
            (.value, valueRaw),
            (.predGroup, predGroup.finish()),
            (.predActor, predActor.finish()),
            (.predCounter, predCounter.finish()),
            (.expand, expandBytes),
            (.markName, markName.finish()),
        ]
        return columns.filter { !$0.1.isEmpty }
    }
}
