extension OpSet {
    /// Hands every stored op to `body` in document order (docs/binary-format.md §5.4), ready for a document
    /// writer:
    /// - objects: the root, then objects by creating op id in Lamport order (counter, then
    ///   actor bytes);
    /// - maps and tables: keys by UTF-8 bytes, then ops by id;
    /// - lists and text: elements in RGA order, each element's insert op first, then the ops
    ///   targeting it by id.
    ///
    /// Deletes are not ops: they appear only in `succ`, which lists every successor (deletes,
    /// overwrites, increments) in Lamport order. Actor indexes refer to `documentActors`
    /// (sorted by bytes). The row passed to `body` is reused: copy what must outlive the call.
    package func forEachDocumentOp(_ body: (DocumentOpRow) throws(AutomergeError) -> Void) throws(AutomergeError) {
        var row = DocumentOpRow.scratch
        var succScratch: [(UInt32, Int32)] = []
        func emit(_ index: Int32, object: ObjectId, key: Key) throws(AutomergeError) {
            let op = ops[Int(index)]
            row.object = object
            row.key = key
            row.id = OpId(counter: UInt64(op.counter), actor: Int(actorRank[Int(op.actor)]))
            row.insert = op.insert
            row.action = op.action
            row.value = op.value
            row.expand = op.expand
            row.markName = op.markName >= 0 ? strings[Int(op.markName)] : nil
            row.successors.removeAll(keepingCapacity: true)
            var entry = op.firstSucc
            if entry >= 0 {
                succScratch.removeAll(keepingCapacity: true)
                while entry >= 0 {
                    let succ = succs[Int(entry)]
                    succScratch.append((succ.counter, succ.actor))
                    entry = succ.next
                }
                if succScratch.count > 1 { succScratch.sort { lamportLess($0, $1) } }
                for (counter, actor) in succScratch {
                    row.successors.append(OpId(counter: UInt64(counter), actor: Int(actorRank[Int(actor)])))
                }
            }
            try body(row)
        }

        for object in objectsInDocumentOrder() {
            let state = objects[Int(object)]
            let objectId: ObjectId
            if state.creator < 0 {
                objectId = .root
            } else {
                let creator = ops[Int(state.creator)]
                objectId = .op(OpId(counter: UInt64(creator.counter), actor: Int(actorRank[Int(creator.actor)])))
            }
            if state.kind.isSequence {
                try state.sequence.forEach { (element: Int32) throws(AutomergeError) in
                    let reference = ops[Int(element)].key
                    let referenceKey: Key
                    if reference < 0 {
                        referenceKey = .head
                    } else {
                        let target = ops[Int(reference)]
                        referenceKey = .element(OpId(counter: UInt64(target.counter), actor: Int(actorRank[Int(target.actor)])))
                    }
                    try emit(element, object: objectId, key: referenceKey)
                    guard var others = state.elementOps[element] else { return }
                    let own = ops[Int(element)]
                    let elementKey = Key.element(OpId(counter: UInt64(own.counter), actor: Int(actorRank[Int(own.actor)])))
                    if others.count > 1 { others.sort { lamportLess($0, $1) } }
                    for op in others { try emit(op, object: objectId, key: elementKey) }
                }
            } else {
                let keys = state.keyOps.keys.sorted { strings[Int($0)].utf8.lexicographicallyPrecedes(strings[Int($1)].utf8) }
                for key in keys {
                    guard var list = state.keyOps[key] else { continue }
                    if list.count > 1 { list.sort { lamportLess($0, $1) } }
                    let mapKey = Key.map(strings[Int(key)])
                    for op in list { try emit(op, object: objectId, key: mapKey) }
                }
            }
        }
    }

    /// Every stored op in document order (convenient for small documents and tests).
    package func documentOps() -> [DocumentOpRow] {
        var rows: [DocumentOpRow] = []
        try? forEachDocumentOp { (row: DocumentOpRow) throws(AutomergeError) in rows.append(row) }
        return rows
    }

    /// The root, then every object by its creating op id in Lamport order.
    func objectsInDocumentOrder() -> [Int32] {
        var others = Array(Int32(1)..<Int32(objects.count))
        others.sort { lamportLess(objects[Int($0)].creator, objects[Int($1)].creator) }
        return [0] + others
    }
}
