extension OpSet {
    /// Builds the op set straight from a document chunk's op rows, without replaying changes.
    ///
    /// The stored order is document order (docs/binary-format.md §5.4), so sequence elements arrive in RGA order
    /// and are appended, and successor lists are given. The rows are trusted to be in document
    /// order (as the reference trusts them); references to objects or elements that do not
    /// exist yet are refused with `.invalidDocument`.
    package init(document: DocumentChunk, limits: DocumentLimits = .default) throws(AutomergeError) {
        self.init()
        for actor in document.actors {
            guard knownActor(actor) == nil else { throw .invalidDocument("actor \(actor.hex) appears twice") }
            _ = internActor(actor)
        }
        // Document actor index i is internal index i.
        var lastObjectKey: UInt64 = .max
        var lastObject: Int32 = 0
        try document.forEachStoredOp(limits: limits) { (row: DocumentOpRow) throws(AutomergeError) in
            let counter = UInt32(row.id.counter)
            let actor = Int32(row.id.actor)
            let packed = Self.pack(counter, actor)
            guard opIndex[packed] == nil else { throw .invalidDocument("op \(row.id) appears twice") }
            guard row.action != .delete else { throw .invalidDocument("a delete op is stored") }
            let object: Int32
            switch row.object {
            case .root: object = 0
            case .op(let id):
                let objectKey = Self.pack(UInt32(id.counter), Int32(id.actor))
                if objectKey == lastObjectKey {
                    object = lastObject
                } else {
                    guard let found = objectIndex[objectKey] else { throw .invalidDocument("op \(row.id) is in unknown object \(id)") }
                    object = found
                    lastObjectKey = objectKey
                    lastObject = found
                }
            }
            let kind = objects[Int(object)].kind
            let key: Int32
            switch row.key {
            case .map(let string):
                guard !kind.isSequence, !row.insert else { throw .invalidDocument("map op \(row.id) in a \(kind)") }
                key = intern(string)
            case .head:
                guard kind.isSequence, row.insert else { throw .invalidDocument("op \(row.id) at the head of a \(kind)") }
                key = -1
            case .element(let id):
                guard kind.isSequence else { throw .invalidDocument("sequence op \(row.id) in a \(kind)") }
                guard let found = opIndex[Self.pack(UInt32(id.counter), Int32(id.actor))], ops[Int(found)].insert,
                    ops[Int(found)].object == object
                else { throw .invalidDocument("op \(row.id) refers to unknown element \(id)") }
                key = found
            }
            let index = Int32(ops.count)
            var record = OpRecord(
                counter: counter,
                actor: actor,
                object: object,
                key: key,
                markName: row.markName.map { intern($0) } ?? -1,
                action: row.action,
                insert: row.insert,
                expand: row.expand,
                value: row.value
            )
            for succ in row.successors {
                // The successor op is resolved once every row is read.
                succs.append(SuccEntry(counter: UInt32(succ.counter), actor: Int32(succ.actor), op: -1, next: record.firstSucc))
                record.firstSucc = Int32(succs.count - 1)
            }
            noteCounter(counter)
            ops.append(record)
            opIndex[packed] = index
            if let made = ObjectKind(making: row.action) {
                objects.append(ObjectState(kind: made, creator: index))
                ops[Int(index)].child = Int32(objects.count - 1)
                objectIndex[packed] = Int32(objects.count - 1)
            }
            if kind.isSequence {
                if row.insert {
                    appendElement(object: object, element: index)
                } else {
                    objects[Int(object)].elementOps[key, default: []].append(index)
                }
            } else {
                objects[Int(object)].keyOps[key, default: []].append(index)
            }
        }
        for entry in succs.indices {
            let succ = succs[entry]
            noteCounter(succ.counter)
            succs[entry].op = opIndex[Self.pack(succ.counter, succ.actor)] ?? -1
        }
        for object in objects.indices where objects[object].kind.isSequence {
            var chunk = objects[object].sequence.first
            while chunk >= 0 {
                var visible: Int32 = 0
                for element in objects[object].sequence.chunks[Int(chunk)].elements {
                    let isVisible = elementIsVisible(element, clock: nil)
                    ops[Int(element)].elementVisible = isVisible
                    if isVisible { visible += 1 }
                }
                objects[object].sequence.chunks[Int(chunk)].visible = visible
                chunk = objects[object].sequence.chunks[Int(chunk)].next
            }
        }
    }
}
