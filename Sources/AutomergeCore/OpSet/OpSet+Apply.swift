extension OpSet {
    /// Applies one change. The caller hands changes in causal order (every dep applied first);
    /// `AutomergeDocument` gets that order from the change graph, which queues changes whose
    /// deps are missing.
    ///
    /// Atomic: every reference (object, element, pred) is checked before anything changes, so
    /// a change that names ops this set does not have throws `.invalidOp` and leaves the set
    /// as it was (apart from learning the change's actors).
    package mutating func apply(_ change: Change) throws(AutomergeError) {
        // Every author is in the document's actor table, even of a change without ops.
        var local: [Int32] = [internActor(change.actor)]
        guard !change.ops.isEmpty else { return }
        for actor in change.otherActors { local.append(internActor(actor)) }
        let author = local[0]
        guard change.startOp <= UInt64(UInt32.max), change.startOp + UInt64(change.ops.count) - 1 <= UInt64(UInt32.max) else {
            throw .counterTooLarge(change.startOp)
        }
        let startOp = UInt32(change.startOp)

        func resolve(_ id: OpId) throws(AutomergeError) -> (UInt32, Int32) {
            guard id.actor >= 0, id.actor < local.count else { throw .invalidOp("actor index \(id.actor) out of range") }
            guard id.counter <= UInt64(UInt32.max) else { throw .counterTooLarge(id.counter) }
            return (UInt32(id.counter), local[id.actor])
        }

        // Pass 1: check every reference, tracking what earlier ops of this change create.
        var newObjects: [UInt64: ObjectKind] = [:]
        var newOps: [UInt64: (object: UInt64, isElement: Bool)] = [:]
        let rootKey = UInt64.max
        for (offset, op) in change.ops.enumerated() {
            let id = Self.pack(startOp + UInt32(offset), author)
            guard opIndex[id] == nil, newOps[id] == nil else { throw .invalidOp("op \(startOp + UInt32(offset)) is already applied") }
            let objectKey: UInt64
            let kind: ObjectKind
            switch op.object {
            case .root:
                objectKey = rootKey
                kind = .map
            case .op(let raw):
                let (counter, actor) = try resolve(raw)
                objectKey = Self.pack(counter, actor)
                if let existing = objectIndex[objectKey] {
                    kind = objects[Int(existing)].kind
                } else if let created = newObjects[objectKey] {
                    kind = created
                } else {
                    throw .invalidOp("op \(op.action) refers to unknown object \(raw)")
                }
            }
            func belongsToObject(_ packed: UInt64, element: Bool) -> Bool {
                if let existing = opIndex[packed] {
                    let record = ops[Int(existing)]
                    let owner =
                        record.object == 0
                        ? rootKey
                        : Self.pack(ops[Int(objects[Int(record.object)].creator)].counter, ops[Int(objects[Int(record.object)].creator)].actor)
                    return owner == objectKey && (!element || record.insert)
                }
                if let created = newOps[packed] { return created.object == objectKey && (!element || created.isElement) }
                return false
            }
            switch op.key {
            case .map:
                guard !kind.isSequence else { throw .invalidOp("map key used on a \(kind)") }
                guard !op.insert else { throw .invalidOp("insert into a map") }
            case .head:
                guard kind.isSequence else { throw .invalidOp("sequence position used on a \(kind)") }
                guard op.insert else { throw .invalidOp("non-insert op at the head of a sequence") }
            case .element(let raw):
                guard kind.isSequence else { throw .invalidOp("sequence position used on a \(kind)") }
                let (counter, actor) = try resolve(raw)
                guard belongsToObject(Self.pack(counter, actor), element: true) else {
                    throw .invalidOp("op refers to unknown element \(raw)")
                }
            }
            for pred in op.pred {
                let (counter, actor) = try resolve(pred)
                guard belongsToObject(Self.pack(counter, actor), element: false) else {
                    throw .invalidOp("op refers to unknown predecessor \(pred)")
                }
            }
            if op.action == .increment {
                switch op.value {
                case .int, .uint: break
                default: throw .invalidOp("increment by a non-integer value")
                }
            }
            if op.action != .delete { newOps[id] = (objectKey, op.insert) }
            if let made = ObjectKind(making: op.action) { newObjects[id] = made }
        }

        // Pass 2: every reference resolves now.
        var predScratch: [Int32] = []
        for (offset, op) in change.ops.enumerated() {
            let counter = startOp + UInt32(offset)
            let object: Int32
            switch op.object {
            case .root: object = 0
            case .op(let raw):
                let (c, a) = try resolve(raw)
                object = objectIndex[Self.pack(c, a)] ?? 0
            }
            let key: Int32
            switch op.key {
            case .map(let string): key = intern(string)
            case .head: key = -1
            case .element(let raw):
                let (c, a) = try resolve(raw)
                key = opIndex[Self.pack(c, a)] ?? -1
            }
            predScratch.removeAll(keepingCapacity: true)
            for pred in op.pred {
                let (c, a) = try resolve(pred)
                if let index = opIndex[Self.pack(c, a)] { predScratch.append(index) }
            }
            let markName = op.markName.map { intern($0) } ?? -1
            integrate(
                OpRecord(
                    counter: counter,
                    actor: author,
                    object: object,
                    key: key,
                    markName: markName,
                    action: op.action,
                    insert: op.insert,
                    expand: op.expand,
                    value: op.value
                ),
                preds: predScratch
            )
        }
    }

    /// Adds one checked op: records it as the successor of its preds (a delete exists only
    /// there), files it under its key or element, and creates its object.
    mutating func integrate(_ record: OpRecord, preds: [Int32]) {
        noteCounter(record.counter)
        let isSequence = objects[Int(record.object)].kind.isSequence
        let index = record.action == .delete ? Int32(-1) : Int32(ops.count)
        for pred in preds {
            succs.append(SuccEntry(counter: record.counter, actor: record.actor, op: index, next: ops[Int(pred)].firstSucc))
            ops[Int(pred)].firstSucc = Int32(succs.count - 1)
        }
        if record.action == .delete {
            if isSequence { for pred in preds { refreshElement(element(of: pred)) } }
            return
        }
        ops.append(record)
        opIndex[Self.pack(record.counter, record.actor)] = index
        if let kind = ObjectKind(making: record.action) {
            objects.append(ObjectState(kind: kind, creator: index))
            let object = Int32(objects.count - 1)
            ops[Int(index)].child = object
            objectIndex[Self.pack(record.counter, record.actor)] = object
        }
        if isSequence {
            if record.insert {
                rgaInsert(object: record.object, element: index, after: record.key)
                refreshElement(index)
            } else {
                objects[Int(record.object)].elementOps[record.key, default: []].append(index)
            }
            // Refreshing is idempotent: no need to skip elements seen twice.
            if !record.insert { refreshElement(record.key) }
            for pred in preds { refreshElement(element(of: pred)) }
        } else {
            objects[Int(record.object)].keyOps[record.key, default: []].append(index)
        }
    }
}
