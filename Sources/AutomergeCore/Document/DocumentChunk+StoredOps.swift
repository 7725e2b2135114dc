extension DocumentChunk {
    /// Reads the op rows exactly as stored (no deletes synthesised, no regrouping), handing each
    /// to `body` in stored order. Actor indexes refer to `actors`.
    ///
    /// The row passed to `body` is reused: copy what must outlive the call.
    package func forEachStoredOp(
        limits: DocumentLimits = .default,
        _ body: (DocumentOpRow) throws(AutomergeError) -> Void
    ) throws(AutomergeError) {
        let actorCount = actors.count
        var objActor = RLEDecoder<UInt64>(opReader(.objActor))
        var objCounter = RLEDecoder<UInt64>(opReader(.objCounter))
        var keyActor = RLEDecoder<UInt64>(opReader(.keyActor))
        var keyCounter = DeltaDecoder(opReader(.keyCounter))
        var keyString = RLEDecoder<String>(opReader(.keyString))
        var idActor = RLEDecoder<UInt64>(opReader(.idActor))
        var idCounter = DeltaDecoder(opReader(.idCounter))
        var insert = BooleanDecoder(opReader(.insert))
        var action = RLEDecoder<UInt64>(opReader(.action))
        var value = ValueDecoder(metadata: opReader(.valueMetadata), raw: opReader(.value))
        var succGroup = RLEDecoder<UInt64>(opReader(.succGroup))
        var succActor = RLEDecoder<UInt64>(opReader(.succActor))
        var succCounter = DeltaDecoder(opReader(.succCounter))
        var expand = BooleanDecoder(opReader(.expand))
        var markName = RLEDecoder<String>(opReader(.markName))

        func actorIndex(_ raw: UInt64) throws(AutomergeError) -> Int {
            guard raw < UInt64(actorCount) else { throw .invalidDocument("invalid actor id \(raw)") }
            return Int(raw)
        }
        func counter(_ raw: UInt64) throws(AutomergeError) -> UInt64 {
            guard raw <= UInt64(UInt32.max) else { throw .counterTooLarge(raw) }
            return raw
        }

        var row = DocumentOpRow.scratch
        var count = 0
        while !action.isAtEnd {
            guard count < limits.maximumOps else { throw .invalidDocument("more than \(limits.maximumOps) ops") }
            count += 1
            switch (try objActor.next(), try objCounter.next()) {
            case (nil, nil): row.object = .root
            case (let actor?, let ctr?): row.object = .op(OpId(counter: try counter(ctr), actor: try actorIndex(actor)))
            default: throw .invalidColumns("object actor and counter disagree on null")
            }
            switch (try keyActor.next(), try keyCounter.next(), try keyString.next()) {
            case (nil, nil, let string?): row.key = .map(string)
            case (nil, 0?, nil): row.key = .head
            case (let actor?, let ctr?, nil) where ctr > 0:
                row.key = .element(OpId(counter: try counter(UInt64(ctr)), actor: try actorIndex(actor)))
            default: throw .invalidColumns("invalid key")
            }
            let actor = try actorIndex(try idActor.nextNonNull("id actor"))
            guard let ctr = try idCounter.nextCounter("id counter"), ctr > 0 else {
                throw .invalidColumns("missing or zero op id counter")
            }
            row.id = OpId(counter: ctr, actor: actor)
            row.insert = try insert.next()
            let rawAction = try action.nextNonNull("action")
            guard let typed = Action(rawValue: rawAction) else { throw .unknownAction(rawAction) }
            row.action = typed
            row.value = try value.next()
            let succCount = try succGroup.next() ?? 0
            guard succCount <= UInt64(limits.maximumOps) else { throw .invalidDocument("successor count \(succCount) too large") }
            row.successors.removeAll(keepingCapacity: true)
            for _ in 0..<succCount {
                let actor = try actorIndex(try succActor.nextNonNull("succ actor"))
                guard let ctr = try succCounter.nextCounter("succ counter") else {
                    throw .invalidColumns("unexpected null in column succ counter")
                }
                row.successors.append(OpId(counter: ctr, actor: actor))
            }
            row.expand = try expand.next()
            row.markName = try markName.next()
            try body(row)
        }
        guard
            objActor.isAtEnd && objCounter.isAtEnd && keyActor.isAtEnd && keyCounter.isAtEnd && keyString.isAtEnd
                && idActor.isAtEnd && idCounter.isAtEnd && insert.isAtEnd && value.isAtEnd && succGroup.isAtEnd
                && succActor.isAtEnd && succCounter.isAtEnd && expand.isAtEnd && markName.isAtEnd
        else { throw .invalidColumns("op columns have different lengths") }
    }

    /// Every stored op row, in stored order (convenient for small documents and tests).
    package func storedOps(limits: DocumentLimits = .default) throws(AutomergeError) -> [DocumentOpRow] {
        var rows: [DocumentOpRow] = []
        try forEachStoredOp(limits: limits) { (row: DocumentOpRow) throws(AutomergeError) in rows.append(row) }
        return rows
    }
}
