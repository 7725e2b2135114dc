/// The ops of the changes that follow a stored document chunk, arranged to be merged into that
/// chunk's op rows as they stream past (`merge(_:remapping:into:)`): the compaction's way of
/// writing a new snapshot without building an op set of the whole document.
///
/// Ids use the new document's actor table (sorted by bytes), so Lamport order is (counter, actor
/// index). Memory follows the later ops only; the stored rows are read one at a time.
struct LaterOps {
    /// The later ops that are rows (every op but deletes), successors filled in and sorted.
    private var rows: [DocumentOpRow] = []
    /// Row of each later non-delete op.
    private var rowIndex: [OpId: Int32] = [:]
    /// Stored op → the later ops that overwrite, delete or increment it.
    private var storedSuccessors: [OpId: [OpId]] = [:]
    /// Stored ops the later ops refer to, with what they must be; each must stream past.
    private var storedReferences: [OpId: Reference] = [:]
    /// Objects holding later rows, in document order.
    private var objects: [ObjectId] = []
    /// Map objects: their later rows by key (UTF-8 bytes), then id.
    private var mapRows: [ObjectId: [Int32]] = [:]
    /// Sequences: later inserts at the head, ascending by id.
    private var headChildren: [ObjectId: [Int32]] = [:]
    /// Sequences: later inserts after an element, ascending by id.
    private var elementChildren: [OpId: [Int32]] = [:]
    /// Sequences: later non-insert ops on an element, ascending by id.
    private var elementOps: [OpId: [Int32]] = [:]

    /// What a stored op a later op names must be.
    private struct Reference {
        /// The object the stored op is in (preds and elements), nil when only its kind matters.
        var object: ObjectId?
        var mustInsert = false
        /// It is an object's creator: a make op, of a sequence or not (nil: either).
        var mustMake = false
        var sequence: Bool?
    }

    /// The later ops: those of `graph`'s changes from `first` on, in the graph's (causal) order.
    /// `actors` is the new document's actor table.
    init(graph: ChangeGraph, from first: Int, actors: [ActorId]) throws(AutomergeError) {
        let table = DocumentChangeTable(actors: actors, changes: [], heads: [])
        for index in first..<graph.count {
            guard let chunk = graph.chunk(at: index) else { throw .invalidDocument("a later change has no stored bytes") }
            let change = try Change(chunk: chunk)
            guard !change.ops.isEmpty else { continue }
            var local: [Int] = []
            for actor in [change.actor] + change.otherActors {
                guard let mapped = table.actorIndex(of: actor) else { throw .invalidDocument("actor \(actor.hex) has no change") }
                local.append(mapped)
            }
            func map(_ id: OpId) throws(AutomergeError) -> OpId {
                guard id.actor >= 0, id.actor < local.count else { throw .invalidOp("actor index \(id.actor) out of range") }
                return OpId(counter: id.counter, actor: local[id.actor])
            }
            for (offset, op) in change.ops.enumerated() {
                let id = OpId(counter: change.startOp + UInt64(offset), actor: local[0])
                guard rowIndex[id] == nil else { throw .invalidOp("op \(id) is applied twice") }
                let sequenceKey: Bool
                if case .map = op.key { sequenceKey = false } else { sequenceKey = true }
                let object: ObjectId
                switch op.object {
                case .root:
                    guard !sequenceKey else { throw .invalidOp("op \(id) uses a sequence position in the root map") }
                    object = .root
                case .op(let raw):
                    let creator = try map(raw)
                    object = .op(creator)
                    if let row = rowIndex[creator] {
                        guard let kind = ObjectKind(making: rows[Int(row)].action), kind.isSequence == sequenceKey else {
                            throw .invalidOp("op \(id) does not fit object \(creator)")
                        }
                    } else {
                        try require(creator, Reference(mustMake: true, sequence: sequenceKey))
                    }
                }
                let key: Key
                switch op.key {
                case .map(let string): key = .map(string)
                case .head: key = .head
                case .element(let raw):
                    let element = try map(raw)
                    key = .element(element)
                    if let row = rowIndex[element] {
                        guard rows[Int(row)].insert, rows[Int(row)].object == object else {
                            throw .invalidOp("op \(id) names unknown element \(element)")
                        }
                    } else {
                        try require(element, Reference(object: object, mustInsert: true))
                    }
                }
                for raw in op.pred {
                    let pred = try map(raw)
                    if let row = rowIndex[pred] {
                        guard rows[Int(row)].object == object else { throw .invalidOp("op \(id) names a predecessor in another object") }
                        rows[Int(row)].successors.append(id)
                    } else {
                        try require(pred, Reference(object: object))
                        storedSuccessors[pred, default: []].append(id)
                    }
                }
                guard op.action != .delete else { continue }
                rowIndex[id] = Int32(rows.count)
                rows.append(
                    DocumentOpRow(
                        object: object,
                        key: key,
                        id: id,
                        insert: op.insert,
                        action: op.action,
                        value: op.value,
                        expand: op.expand,
                        markName: op.markName
                    )
                )
            }
        }
        arrange()
    }

    /// Whether there is nothing to merge.
    var isEmpty: Bool { rows.isEmpty && storedSuccessors.isEmpty }

    private mutating func require(_ id: OpId, _ reference: Reference) throws(AutomergeError) {
        guard var known = storedReferences[id] else {
            storedReferences[id] = reference
            return
        }
        if let object = reference.object {
            guard known.object == nil || known.object == object else { throw .invalidOp("op \(id) is named in two objects") }
            known.object = object
        }
        known.mustInsert = known.mustInsert || reference.mustInsert
        known.mustMake = known.mustMake || reference.mustMake
        if let sequence = reference.sequence {
            guard known.sequence == nil || known.sequence == sequence else { throw .invalidOp("object \(id) is used as a map and a sequence") }
            known.sequence = sequence
        }
        storedReferences[id] = known
    }

    /// Sorts successors and files every row under its object, key or element.
    private mutating func arrange() {
        var touched: Set<ObjectId> = []
        for index in rows.indices {
            if rows[index].successors.count > 1 { rows[index].successors.sort(by: Self.lamportLess) }
            let row = Int32(index)
            let object = rows[index].object
            touched.insert(object)
            switch rows[index].key {
            case .map: mapRows[object, default: []].append(row)
            case .head: headChildren[object, default: []].append(row)
            case .element(let element):
                if rows[index].insert {
                    elementChildren[element, default: []].append(row)
                } else {
                    elementOps[element, default: []].append(row)
                }
            }
        }
        for key in Array(storedSuccessors.keys) { storedSuccessors[key]?.sort(by: Self.lamportLess) }
        let byId: (Int32, Int32) -> Bool = { [rows] in Self.lamportLess(rows[Int($0)].id, rows[Int($1)].id) }
        for key in Array(headChildren.keys) { headChildren[key]?.sort(by: byId) }
        for key in Array(elementChildren.keys) { elementChildren[key]?.sort(by: byId) }
        for key in Array(elementOps.keys) { elementOps[key]?.sort(by: byId) }
        for key in Array(mapRows.keys) { mapRows[key]?.sort { [rows] in Self.mapRowLess(rows[Int($0)], rows[Int($1)]) } }
        objects = touched.sorted(by: Self.objectLess)
    }

    /// Lamport order: counter, then actor (indexes into a table sorted by bytes).
    static func lamportLess(_ a: OpId, _ b: OpId) -> Bool { a.counter != b.counter ? a.counter < b.counter : a.actor < b.actor }

    /// Document order of objects: the root, then by creating op.
    static func objectLess(_ a: ObjectId, _ b: ObjectId) -> Bool {
        switch (a, b) {
        case (.root, .root): return false
        case (.root, .op): return true
        case (.op, .root): return false
        case (.op(let x), .op(let y)): return lamportLess(x, y)
        }
    }

    /// Document order of a map's rows: key by UTF-8 bytes, then id.
    static func mapRowLess(_ a: DocumentOpRow, _ b: DocumentOpRow) -> Bool {
        guard case .map(let x) = a.key, case .map(let y) = b.key else { return false }
        if x.utf8.elementsEqual(y.utf8) { return lamportLess(a.id, b.id) }
        return x.utf8.lexicographicallyPrecedes(y.utf8)
    }

    /// Writes `document`'s stored op rows with the later ops merged in, all in document order
    /// (docs/binary-format.md §5.4), into `writer`. `remap` maps the chunk's actor indexes to the
    /// writer's (nil when they are the same table).
    ///
    /// Map rows merge by (key, id). A later insert goes where the reference's RGA puts it: after
    /// its reference element's group (the insert and the ops on it), before the first element
    /// whose id is lower than its own; elements in between have higher ids (a later element's
    /// counter exceeds its reference's, and every descendant's exceeds its ancestor's). Later
    /// inserts waiting for their place are a stack, highest id on top.
    func merge(_ document: DocumentChunk, remapping remap: [Int]?, into writer: inout DocumentWriter) throws(AutomergeError) {
        var references = storedReferences
        var written = 0
        var objectCursor = 0
        var current: ObjectId?
        var currentIsSequence = false
        var pendingMap: ArraySlice<Int32> = []
        var stack: [Int32] = []
        var element: OpId?
        var pendingOps: ArraySlice<Int32> = []

        func emitLater(_ row: Int32) throws(AutomergeError) {
            try writer.append(rows[Int(row)])
            written += 1
        }
        func emitSubtree(_ root: Int32) throws(AutomergeError) {
            var work = [root]
            while let next = work.popLast() {
                try emitLater(next)
                let id = rows[Int(next)].id
                for op in elementOps[id] ?? [] { try emitLater(op) }
                work.append(contentsOf: elementChildren[id] ?? [])
            }
        }
        func finishElement() throws(AutomergeError) {
            guard let done = element else { return }
            while let op = pendingOps.popFirst() { try emitLater(op) }
            stack.append(contentsOf: elementChildren[done] ?? [])
            element = nil
        }
        func start(_ object: ObjectId, sequence: Bool) {
            current = object
            currentIsSequence = sequence
            if sequence {
                stack = headChildren[object] ?? []
            } else {
                pendingMap = (mapRows[object] ?? [])[...]
            }
        }
        func finishObject() throws(AutomergeError) {
            guard current != nil else { return }
            if currentIsSequence {
                try finishElement()
                while let next = stack.popLast() { try emitSubtree(next) }
            } else {
                while let row = pendingMap.popFirst() { try emitLater(row) }
            }
            current = nil
        }
        /// Writes the objects only later ops touch that come before `next` (all of them when nil).
        func laterObjects(before next: ObjectId?) throws(AutomergeError) {
            while objectCursor < objects.count {
                let object = objects[objectCursor]
                if let next, !Self.objectLess(object, next) {
                    if object == next { objectCursor += 1 }
                    return
                }
                start(object, sequence: mapRows[object] == nil)
                try finishObject()
                objectCursor += 1
            }
        }

        try document.forEachStoredOp { (stored: DocumentOpRow) throws(AutomergeError) in
            var row = remap.map { stored.remappingActors($0) } ?? stored
            if current != row.object {
                if let current, !Self.objectLess(current, row.object) {
                    throw .invalidDocument("stored objects out of document order at op \(row.id)")
                }
                try finishObject()
                try laterObjects(before: row.object)
                let sequence: Bool
                if case .map = row.key { sequence = false } else { sequence = true }
                start(row.object, sequence: sequence)
            }
            if !references.isEmpty, let reference = references.removeValue(forKey: row.id) {
                guard reference.object == nil || reference.object == row.object, !reference.mustInsert || row.insert,
                    !reference.mustMake
                        || ObjectKind(making: row.action).map({ kind in reference.sequence.map { $0 == kind.isSequence } ?? true }) == true
                else { throw .invalidOp("a later op names stored op \(row.id) as what it is not") }
            }
            if !rowIndex.isEmpty, rowIndex[row.id] != nil { throw .invalidOp("op \(row.id) is stored and applied again") }
            if !storedSuccessors.isEmpty, let added = storedSuccessors[row.id] {
                row.successors.append(contentsOf: added)
                row.successors.sort(by: Self.lamportLess)
            }
            if currentIsSequence {
                if row.insert {
                    try finishElement()
                    while let top = stack.last, Self.lamportLess(row.id, rows[Int(top)].id) {
                        stack.removeLast()
                        try emitSubtree(top)
                    }
                    try writer.append(row)
                    element = row.id
                    pendingOps = (elementOps[row.id] ?? [])[...]
                } else {
                    guard case .element(let target) = row.key, target == element else {
                        throw .invalidDocument("stored op \(row.id) is not beside the element it targets")
                    }
                    while let next = pendingOps.first, Self.lamportLess(rows[Int(next)].id, row.id) {
                        pendingOps.removeFirst()
                        try emitLater(next)
                    }
                    try writer.append(row)
                }
            } else {
                guard case .map = row.key else { throw .invalidDocument("stored op \(row.id) mixes map and sequence keys") }
                while let next = pendingMap.first, Self.mapRowLess(rows[Int(next)], row) {
                    pendingMap.removeFirst()
                    try emitLater(next)
                }
                try writer.append(row)
            }
        }
        try finishObject()
        try laterObjects(before: nil)
        guard references.isEmpty else { throw .invalidOp("later ops name \(references.count) ops the document does not hold") }
        guard written == rows.count else { throw .invalidOp("\(rows.count - written) later ops have no place in the document") }
    }
}
