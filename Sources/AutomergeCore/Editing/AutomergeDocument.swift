/// A document that can be loaded, read, edited locally and merged: the change graph (history,
/// heads, queueing of changes with missing deps) and the op set (state), kept in step.
///
/// Edits apply at once and accumulate in an open change until `commit(message:time:)` encodes
/// it canonically. Merging commits any open change first, so local ops are never interleaved
/// with remote ones.
package struct AutomergeDocument: Sendable {
    package private(set) var graph: ChangeGraph
    package private(set) var opSet: OpSet
    /// The author of local changes.
    package let actor: ActorId
    private var pending: [PendingOp] = []
    private var pendingStartOp: UInt64 = 0

    /// One local op, with full actor ids until the change's actor table is known.
    private struct PendingOp: Sendable {
        var object: ExId?
        var key: PendingKey
        var insert: Bool
        var action: Action
        var value: ScalarValue
        var pred: [ExId]
    }

    private enum PendingKey: Sendable {
        case map(String)
        case head
        case element(ExId)
    }

    /// An empty document.
    package init(actor: ActorId) {
        self.actor = actor
        graph = ChangeGraph()
        opSet = OpSet()
    }

    /// Loads any concatenation of document and change chunks (docs/binary-format.md §5.6). A leading document
    /// chunk is read straight into the op set; the changes after it are applied in the graph's
    /// causal order. Changes with missing deps stay queued in the graph.
    package init(loading bytes: [UInt8], actor: ActorId) throws(AutomergeError) {
        self.actor = actor
        var graph = ChangeGraph()
        try graph.load(bytes)
        var opSet = OpSet()
        var covered: Set<ChangeHash> = []
        var reader = ChunkReader(bytes)
        if case .document(let documentBytes)? = try reader.next() {
            let document = try DocumentChunk(documentBytes)
            opSet = try OpSet(document: document)
            covered = graph.ancestors(of: document.heads)
        }
        for hash in graph.allHashes where !covered.contains(hash) {
            guard let chunk = graph.chunk(for: hash) else { continue }
            try opSet.apply(try Change(chunk: chunk))
        }
        self.graph = graph
        self.opSet = opSet
    }

    /// The current heads (of committed changes), sorted.
    package var heads: [ChangeHash] { graph.heads }

    /// The JSON view now, or at earlier `heads`.
    package func json(at heads: [ChangeHash]? = nil) -> AutomergeJSON {
        opSet.json(at: heads.map { graph.clock(at: $0) })
    }

    /// Adds changes from elsewhere (any order: those with missing deps wait in the graph) and
    /// applies the ones that became causally ready. Commits an open local change first.
    ///
    /// A change whose ops do not fit the document (`.invalidOp`) stops the batch: the changes
    /// applied before it stay (in both the graph and the op set), it and the rest are dropped,
    /// so the graph and the op set always agree.
    @discardableResult
    package mutating func apply(_ chunks: [ChangeChunk]) throws(AutomergeError) -> ChangeGraph.AddResult {
        commit()
        var decoded: [ChangeHash: Change] = [:]
        for chunk in chunks { decoded[chunk.hash] = try Change(chunk: chunk) }
        var candidate = graph
        // Every chunk was fully decoded just above: the graph needs only its metadata.
        let result = try candidate.add(chunks, validation: .metadata)
        var applied: [ChangeChunk] = []
        do throws(AutomergeError) {
            for hash in result.applied {
                guard let chunk = candidate.chunk(for: hash) else { continue }
                if let change = decoded[hash] {
                    try opSet.apply(change)
                } else {
                    try opSet.apply(try Change(chunk: chunk))
                }
                applied.append(chunk)
            }
        } catch {
            _ = try? graph.add(applied, validation: .metadata)
            throw error
        }
        graph = candidate
        return result
    }

    /// Every committed change, in causal order.
    package var changes: [ChangeChunk] { graph.chunks(for: graph.allHashes) }

    /// Committed changes that `heads` do not include, in causal order.
    package func changes(since heads: [ChangeHash]) -> [ChangeChunk] { graph.chunks(for: graph.changes(notAncestorsOf: heads)) }

    // MARK: Local edits

    private func object(_ id: ObjId, _ kinds: Set<ObjectKindTag>) throws(AutomergeError) -> Int32 {
        guard let index = opSet.objectIndex(id) else { throw .invalidOp("no object \(id)") }
        guard kinds.contains(ObjectKindTag(opSet.objects[Int(index)].kind)) else {
            throw .invalidOp("object \(id) is a \(opSet.objects[Int(index)].kind)")
        }
        return index
    }

    private mutating func applyLocal(
        object: Int32,
        key: PendingKey,
        insert: Bool = false,
        action: Action,
        value: ScalarValue = .null,
        preds: [Int32]
    ) -> ExId {
        if pending.isEmpty { pendingStartOp = opSet.maxOp + 1 }
        let counter = UInt32(truncatingIfNeeded: opSet.maxOp + 1)
        let author = opSet.internActor(actor)
        let keyIndex: Int32
        switch key {
        case .map(let string): keyIndex = opSet.intern(string)
        case .head: keyIndex = -1
        case .element(let id): keyIndex = opSet.opIndex[OpSet.pack(UInt32(id.counter), opSet.knownActor(id.actor) ?? -1)] ?? -1
        }
        opSet.integrate(
            OpRecord(counter: counter, actor: author, object: object, key: keyIndex, action: action, insert: insert, expand: false, value: value),
            preds: preds
        )
        let objectId: ExId? = object == 0 ? nil : opSet.exId(opSet.objects[Int(object)].creator)
        pending.append(
            PendingOp(object: objectId, key: key, insert: insert, action: action, value: value, pred: preds.map { opSet.exId($0) }.sorted())
        )
        return ExId(counter: UInt64(counter), actor: actor)
    }

    /// Sets a map key to a scalar (overwriting every current value).
    package mutating func put(_ map: ObjId, key: String, _ value: ScalarValue) throws(AutomergeError) {
        let index = try object(map, [.map])
        _ = applyLocal(object: index, key: .map(key), action: .put, value: value, preds: currentValues(index, key))
    }

    /// Sets a map key to a new empty object and returns it.
    @discardableResult
    package mutating func putObject(_ map: ObjId, key: String, _ kind: ObjectKind) throws(AutomergeError) -> ObjId {
        let index = try object(map, [.map])
        return .id(applyLocal(object: index, key: .map(key), action: kind.makeAction, preds: currentValues(index, key)))
    }

    /// Deletes a map key (no-op when it has no value).
    package mutating func delete(_ map: ObjId, key: String) throws(AutomergeError) {
        let index = try object(map, [.map])
        let preds = currentValues(index, key)
        guard !preds.isEmpty else { return }
        _ = applyLocal(object: index, key: .map(key), action: .delete, preds: preds)
    }

    /// Increments the counter at a map key.
    package mutating func increment(_ map: ObjId, key: String, by delta: Int64) throws(AutomergeError) {
        let index = try object(map, [.map])
        let counters = currentValues(index, key).filter { opSet.ops[Int($0)].value.isCounter }
        guard !counters.isEmpty else { throw .invalidOp("key \(key) holds no counter") }
        _ = applyLocal(object: index, key: .map(key), action: .increment, value: .int(delta), preds: counters)
    }

    private func currentValues(_ object: Int32, _ key: String) -> [Int32] {
        guard let keyIndex = opSet.stringIndex[.map(key)] else { return [] }
        return opSet.keyValues(object: object, key: keyIndex, clock: nil)
    }

    private func element(_ object: Int32, at position: Int) throws(AutomergeError) -> Int32 {
        guard position >= 0, let element = opSet.element(object: object, visibleIndex: position) else {
            throw .invalidOp("index \(position) is out of bounds")
        }
        return element
    }

    private func insertKey(_ object: Int32, at position: Int) throws(AutomergeError) -> PendingKey {
        guard position >= 0, position <= opSet.visibleLength(object: object) else { throw .invalidOp("index \(position) is out of bounds") }
        if position == 0 { return .head }
        return .element(opSet.exId(try element(object, at: position - 1)))
    }

    /// Inserts a scalar into a list or text at `position` (0 … length).
    package mutating func insert(_ list: ObjId, at position: Int, _ value: ScalarValue) throws(AutomergeError) {
        let index = try object(list, [.list, .text])
        _ = applyLocal(object: index, key: try insertKey(index, at: position), insert: true, action: .put, value: value, preds: [])
    }

    /// Inserts a new empty object into a list and returns it.
    @discardableResult
    package mutating func insertObject(_ list: ObjId, at position: Int, _ kind: ObjectKind) throws(AutomergeError) -> ObjId {
        let index = try object(list, [.list])
        return .id(applyLocal(object: index, key: try insertKey(index, at: position), insert: true, action: kind.makeAction, preds: []))
    }

    /// Overwrites the element at `position` of a list.
    package mutating func put(_ list: ObjId, at position: Int, _ value: ScalarValue) throws(AutomergeError) {
        let index = try object(list, [.list, .text])
        let target = try element(index, at: position)
        let preds = opSet.elementValues(target, clock: nil)
        _ = applyLocal(object: index, key: .element(opSet.exId(target)), action: .put, value: value, preds: preds)
    }

    /// Deletes the element at `position` of a list or text.
    package mutating func delete(_ list: ObjId, at position: Int) throws(AutomergeError) {
        let index = try object(list, [.list, .text])
        let target = try element(index, at: position)
        let preds = opSet.elementValues(target, clock: nil)
        _ = applyLocal(object: index, key: .element(opSet.exId(target)), action: .delete, preds: preds)
    }

    /// Increments the counter at `position` of a list.
    package mutating func increment(_ list: ObjId, at position: Int, by delta: Int64) throws(AutomergeError) {
        let index = try object(list, [.list])
        let target = try element(index, at: position)
        let counters = opSet.elementValues(target, clock: nil).filter { opSet.ops[Int($0)].value.isCounter }
        guard !counters.isEmpty else { throw .invalidOp("element \(position) holds no counter") }
        _ = applyLocal(object: index, key: .element(opSet.exId(target)), action: .increment, value: .int(delta), preds: counters)
    }

    /// Replaces `deleteCount` characters of a text at `position` with `text`, one element per
    /// Unicode scalar value (positions count elements, i.e. scalars).
    package mutating func splice(_ textObject: ObjId, at position: Int, delete deleteCount: Int, insert text: String) throws(AutomergeError) {
        let index = try object(textObject, [.text, .list])
        guard deleteCount >= 0, position >= 0, position + deleteCount <= opSet.visibleLength(object: index) else {
            throw .invalidOp("splice \(position)+\(deleteCount) is out of bounds")
        }
        for _ in 0..<deleteCount { try delete(textObject, at: position) }
        for (offset, scalar) in text.unicodeScalars.enumerated() {
            try insert(textObject, at: position + offset, .string(String(scalar)))
        }
    }

    /// Ends the open change: encodes it canonically (deps = heads, next seq, startOp after
    /// every op seen) and adds it to the graph. Returns nil when there was nothing to commit.
    @discardableResult
    package mutating func commit(message: String? = nil, time: Int64 = 0) -> ChangeChunk? {
        guard !pending.isEmpty else { return nil }
        var others: Set<ActorId> = []
        func note(_ id: ExId?) { if let id, id.actor != actor { others.insert(id.actor) } }
        for op in pending {
            note(op.object)
            if case .element(let id) = op.key { note(id) }
            op.pred.forEach(note)
        }
        let otherActors = others.sorted()
        func local(_ id: ExId) -> OpId {
            OpId(counter: id.counter, actor: id.actor == actor ? 0 : (otherActors.firstIndex(of: id.actor) ?? 0) + 1)
        }
        let ops = pending.map { op in
            let key: Key
            switch op.key {
            case .map(let string): key = .map(string)
            case .head: key = .head
            case .element(let id): key = .element(local(id))
            }
            return Op(
                object: op.object.map { .op(local($0)) } ?? .root,
                key: key,
                insert: op.insert,
                action: op.action,
                value: op.value,
                pred: op.pred.map(local)
            )
        }
        let change = Change(
            deps: graph.heads,
            actor: actor,
            seq: graph.lastSeq(of: actor) + 1,  // O(changes); fine for local editing and tests
            startOp: pendingStartOp,
            time: time,
            message: message,
            otherActors: otherActors,
            ops: ops
        )
        pending.removeAll()
        let chunk = change.encodeChunk()
        // The change's ops are already in the op set; only the graph learns of it.
        _ = try? graph.add([chunk], validation: .metadata)
        return chunk
    }
}

/// Hashable stand-in for `ObjectKind` in kind checks.
private enum ObjectKindTag: Hashable {
    case map, list, text

    init(_ kind: ObjectKind) {
        switch kind {
        case .map, .table: self = .map
        case .list: self = .list
        case .text: self = .text
        }
    }
}

extension ObjectKind {
    var makeAction: Action {
        switch self {
        case .map: return .makeMap
        case .list: return .makeList
        case .text: return .makeText
        case .table: return .makeTable
        }
    }
}

extension ScalarValue {
    var isCounter: Bool {
        if case .counter = self { return true }
        return false
    }
}

extension ChangeGraph {
    /// The largest seq of `actor`'s applied changes (0 when it has none).
    func lastSeq(of actor: ActorId) -> UInt64 {
        guard let index = actors.firstIndex(of: actor) else { return 0 }
        var last: UInt32 = 0
        for (node, author) in nodeActor.enumerated() where author == Int32(index) { last = max(last, nodeSeq[node]) }
        return UInt64(last)
    }
}
