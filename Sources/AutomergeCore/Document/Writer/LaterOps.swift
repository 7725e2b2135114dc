/// The ops of the changes that follow a stored document chunk, arranged to be merged into that
/// chunk's op rows as they stream past (`merge(_:remapping:into:)`): the compaction's way of
/// writing a new snapshot without building an op set of the whole document.
///
/// Ids use the new document's actor table (sorted by bytes), so Lamport order is (counter, actor
/// index). Memory follows the later ops only; the stored rows are read one at a time.
struct LaterOps {
    /// The later ops that are rows (every op but deletes), without their successors (`links`).
    private var rows: [DocumentOpRow] = []
    /// Row of each later non-delete op.
    private var rowIndex: [OpId: Int32] = [:]
    /// Singly linked lists in one array (no array per op): successors, children, element ops.
    private var links: [Link] = []
    /// Per row: its successors' list (unsorted; sorted when written), -1 when none.
    private var rowSuccessors: [Int32] = []
    /// Stored op → its later successors' list (unsorted).
    private var storedSuccessors: [OpId: Int32] = [:]
    /// Stored ops the later ops refer to, with what they must be; each must stream past.
    private var storedReferences: [OpId: Reference] = [:]
    /// Objects holding later rows, in document order.
    private var objects: [ObjectId] = []
    /// Map objects: their later rows by key (UTF-8 bytes), then id.
    private var mapRows: [ObjectId: [Int32]] = [:]
    /// Sequences: the list of later inserts at the head, ascending by id.
    private var headChildren: [ObjectId: Int32] = [:]
    /// The list of later inserts after a stored element, ascending by id.
    private var storedChildren: [OpId: Int32] = [:]
    /// The list of later non-insert ops on a stored element, ascending by id.
    private var storedElementOps: [OpId: Int32] = [:]
    /// Per row (a later element): the lists of later inserts after it and of later ops on it.
    private var rowChildren: [Int32] = []
    private var rowElementOps: [Int32] = []

    /// One entry of a list: a later op (its row, or for successors its id) and the next entry.
    private struct Link {
        var id: OpId
        var row: Int32
        var next: Int32
    }

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
                        links.append(Link(id: id, row: -1, next: rowSuccessors[Int(row)]))
                        rowSuccessors[Int(row)] = Int32(links.count - 1)
                    } else {
                        try require(pred, Reference(object: object))
                        links.append(Link(id: id, row: -1, next: storedSuccessors[pred] ?? -1))
                        storedSuccessors[pred] = Int32(links.count - 1)
                    }
                }
                guard op.action != .delete else { continue }
                rowIndex[id] = Int32(rows.count)
                rowSuccessors.append(-1)
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

    /// Files every row under its object, key or element; sequence lists are built in descending
    /// id order by adding at the front, so each ends up ascending.
    private mutating func arrange() {
        var touched: Set<ObjectId> = []
        var sequenceRows: [Int32] = []
        for index in rows.indices {
            let object = rows[index].object
            touched.insert(object)
            if case .map = rows[index].key {
                mapRows[object, default: []].append(Int32(index))
            } else {
                sequenceRows.append(Int32(index))
            }
        }
        for key in Array(mapRows.keys) { mapRows[key]?.sort { [rows] in Self.mapRowLess(rows[Int($0)], rows[Int($1)]) } }
        sequenceRows.sort { [rows] in Self.lamportLess(rows[Int($1)].id, rows[Int($0)].id) }
        rowChildren = [Int32](repeating: -1, count: rows.count)
        rowElementOps = [Int32](repeating: -1, count: rows.count)
        // Local while the lists' heads (properties) are written through `inout`.
        var links = self.links
        self.links = []
        defer { self.links = links }
        for row in sequenceRows {
            let op = rows[Int(row)]
            func push(_ head: inout Int32) {
                links.append(Link(id: op.id, row: row, next: head))
                head = Int32(links.count - 1)
            }
            switch op.key {
            case .map: break
            case .head: push(&headChildren[op.object, default: -1])
            case .element(let element):
                if let parent = rowIndex[element] {
                    if op.insert { push(&rowChildren[Int(parent)]) } else { push(&rowElementOps[Int(parent)]) }
                } else {
                    if op.insert { push(&storedChildren[element, default: -1]) } else { push(&storedElementOps[element, default: -1]) }
                }
            }
        }
        objects = touched.sorted(by: Self.objectLess)
    }

    /// The ids of a successor list, sorted (Lamport order).
    private func sortedIds(_ head: Int32, into ids: inout [OpId]) {
        var entry = head
        while entry >= 0 {
            ids.append(links[Int(entry)].id)
            entry = links[Int(entry)].next
        }
        if ids.count > 1 { ids.sort(by: Self.lamportLess) }
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
        /// The next later op on the current stored element (a list entry), -1 when none.
        var pendingOp: Int32 = -1
        var successors: [OpId] = []

        func emitLater(_ row: Int32) throws(AutomergeError) {
            var op = rows[Int(row)]
            if rowSuccessors[Int(row)] >= 0 {
                successors.removeAll(keepingCapacity: true)
                sortedIds(rowSuccessors[Int(row)], into: &successors)
                op.successors = successors
            }
            try writer.append(op)
            written += 1
        }
        /// Walks a list (ascending), handing each row to `body`.
        func forEachRow(_ head: Int32, _ body: (Int32) throws(AutomergeError) -> Void) throws(AutomergeError) {
            var entry = head
            while entry >= 0 {
                try body(links[Int(entry)].row)
                entry = links[Int(entry)].next
            }
        }
        /// Pushes a list of later inserts on a stack: ascending, so the highest id ends on top.
        func push(_ head: Int32, on stack: inout [Int32]) {
            var entry = head
            while entry >= 0 {
                stack.append(links[Int(entry)].row)
                entry = links[Int(entry)].next
            }
        }
        func emitSubtree(_ root: Int32) throws(AutomergeError) {
            var work = [root]
            while let next = work.popLast() {
                try emitLater(next)
                try forEachRow(rowElementOps[Int(next)]) { (op: Int32) throws(AutomergeError) in try emitLater(op) }
                push(rowChildren[Int(next)], on: &work)
            }
        }
        func finishElement() throws(AutomergeError) {
            guard let done = element else { return }
            try forEachRow(pendingOp) { (op: Int32) throws(AutomergeError) in try emitLater(op) }
            pendingOp = -1
            push(storedChildren[done] ?? -1, on: &stack)
            element = nil
        }
        func start(_ object: ObjectId, sequence: Bool) {
            current = object
            currentIsSequence = sequence
            if sequence {
                stack.removeAll(keepingCapacity: true)
                push(headChildren[object] ?? -1, on: &stack)
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
            if !storedSuccessors.isEmpty, let added = storedSuccessors[row.id] { sortedIds(added, into: &row.successors) }
            if currentIsSequence {
                if row.insert {
                    try finishElement()
                    while let top = stack.last, Self.lamportLess(row.id, rows[Int(top)].id) {
                        stack.removeLast()
                        try emitSubtree(top)
                    }
                    try writer.append(row)
                    element = row.id
                    pendingOp = storedElementOps[row.id] ?? -1
                } else {
                    guard case .element(let target) = row.key, target == element else {
                        throw .invalidDocument("stored op \(row.id) is not beside the element it targets")
                    }
                    while pendingOp >= 0, Self.lamportLess(links[Int(pendingOp)].id, row.id) {
                        let next = links[Int(pendingOp)].row
                        pendingOp = links[Int(pendingOp)].next
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
