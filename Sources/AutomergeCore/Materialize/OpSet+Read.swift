/// An op id with its full actor, as readers see it ("COUNTER@ACTORHEX").
package struct ExId: Hashable, Comparable, Sendable, CustomStringConvertible {
    package var counter: UInt64
    package var actor: ActorId

    package init(counter: UInt64, actor: ActorId) {
        self.counter = counter
        self.actor = actor
    }

    package var description: String { "\(counter)@\(actor.hex)" }

    /// Lamport order: counter, then actor bytes.
    package static func < (lhs: ExId, rhs: ExId) -> Bool {
        lhs.counter != rhs.counter ? lhs.counter < rhs.counter : lhs.actor < rhs.actor
    }
}

/// An object: the root map, or the object created by an op.
package enum ObjId: Hashable, Sendable, CustomStringConvertible {
    case root
    case id(ExId)

    package var description: String {
        switch self {
        case .root: return "_root"
        case .id(let id): return id.description
        }
    }
}

/// A value read from a document. Counters read as `.counter(current value)`.
package enum DocumentValue: Equatable, Sendable {
    case scalar(ScalarValue)
    case object(ObjId, ObjectKind)
}

/// One of the values of a property, with the op that set it.
package struct ValueWithId: Equatable, Sendable {
    package var id: ExId
    package var value: DocumentValue
}

/// Reading the state, now (`clock` nil) or at the heads a `VectorClock` describes
/// (`ChangeGraph.clock(at:)`).
extension OpSet {
    func objectIndex(_ object: ObjId) -> Int32? {
        switch object {
        case .root: return 0
        case .id(let id):
            guard id.counter <= UInt64(UInt32.max), let actor = knownActor(id.actor) else { return nil }
            return objectIndex[Self.pack(UInt32(id.counter), actor)]
        }
    }

    func exId(_ index: Int32) -> ExId {
        let op = ops[Int(index)]
        return ExId(counter: UInt64(op.counter), actor: actors[Int(op.actor)])
    }

    func objId(_ object: Int32) -> ObjId {
        objects[Int(object)].creator < 0 ? .root : .id(exId(objects[Int(object)].creator))
    }

    /// Whether the op set holds the op (deletes are not held): tells a change already applied.
    package func containsOp(_ id: ExId) -> Bool {
        guard id.counter <= UInt64(UInt32.max), let actor = knownActor(id.actor) else { return false }
        return opIndex[Self.pack(UInt32(id.counter), actor)] != nil
    }

    /// Whether the object exists at `clock`.
    func objectExists(_ object: Int32, clock: OpClock?) -> Bool {
        let creator = objects[Int(object)].creator
        guard creator >= 0, let clock else { return true }
        return clock.includes(ops[Int(creator)].counter, ops[Int(creator)].actor)
    }

    func value(of index: Int32, clock: OpClock?) -> DocumentValue {
        let op = ops[Int(index)]
        if op.child >= 0 { return .object(objId(op.child), objects[Int(op.child)].kind) }
        if case .counter(let base) = op.value { return .scalar(.counter(counterValue(index, base: base, clock: clock))) }
        return .scalar(op.value)
    }

    /// The kind of an object, nil when it does not exist (at `clock`).
    package func objectKind(_ object: ObjId, at clock: VectorClock? = nil) -> ObjectKind? {
        guard let index = objectIndex(object), objectExists(index, clock: opClock(clock)) else { return nil }
        return objects[Int(index)].kind
    }

    /// The keys of a map that have a value, sorted by UTF-8 bytes.
    package func keys(_ object: ObjId, at clock: VectorClock? = nil) -> [String] {
        guard let index = objectIndex(object) else { return [] }
        let clock = opClock(clock)
        return visibleKeys(index, clock: clock).map { strings[Int($0)] }
    }

    func visibleKeys(_ object: Int32, clock: OpClock?) -> [Int32] {
        let state = objects[Int(object)]
        guard !state.kind.isSequence else { return [] }
        var keys: [Int32] = []
        for (key, list) in state.keyOps where list.contains(where: { isVisible($0, clock: clock) }) { keys.append(key) }
        keys.sort { strings[Int($0)].utf8.lexicographicallyPrecedes(strings[Int($1)].utf8) }
        return keys
    }

    /// Every value of a map key, in Lamport order of the ops that set them: more than one is a
    /// conflict, and the last one wins.
    package func getAll(_ object: ObjId, key: String, at clock: VectorClock? = nil) -> [ValueWithId] {
        guard let index = objectIndex(object), let keyIndex = stringIndex[.map(key)] else { return [] }
        let clock = opClock(clock)
        return keyValues(object: index, key: keyIndex, clock: clock).map { ValueWithId(id: exId($0), value: value(of: $0, clock: clock)) }
    }

    /// The winning value of a map key.
    package func get(_ object: ObjId, key: String, at clock: VectorClock? = nil) -> DocumentValue? {
        getAll(object, key: key, at: clock).last?.value
    }

    /// The visible elements of a list or text, in order.
    func visibleElements(_ object: Int32, clock: OpClock?) -> [Int32] {
        var result: [Int32] = []
        try? objects[Int(object)].sequence.forEach { (element: Int32) throws(AutomergeError) in
            if clock == nil ? ops[Int(element)].elementVisible : elementIsVisible(element, clock: clock) { result.append(element) }
        }
        return result
    }

    /// The number of visible elements of a list or text.
    package func length(_ object: ObjId, at clock: VectorClock? = nil) -> Int {
        guard let index = objectIndex(object), objects[Int(index)].kind.isSequence else { return 0 }
        if clock == nil { return visibleLength(object: index) }
        return visibleElements(index, clock: opClock(clock)).count
    }

    /// Every value of each visible element of a list or text (last = winner).
    package func elements(_ object: ObjId, at clock: VectorClock? = nil) -> [[ValueWithId]] {
        guard let index = objectIndex(object), objects[Int(index)].kind.isSequence else { return [] }
        let clock = opClock(clock)
        return visibleElements(index, clock: clock).map { element in
            elementValues(element, clock: clock).map { ValueWithId(id: exId($0), value: value(of: $0, clock: clock)) }
        }
    }

    /// Every value of the element at `index`.
    package func getAll(_ object: ObjId, index position: Int, at clock: VectorClock? = nil) -> [ValueWithId] {
        guard let index = objectIndex(object), objects[Int(index)].kind.isSequence, position >= 0 else { return [] }
        let opClock = opClock(clock)
        let element: Int32?
        if clock == nil {
            element = self.element(object: index, visibleIndex: position)
        } else {
            let all = visibleElements(index, clock: opClock)
            element = position < all.count ? all[position] : nil
        }
        guard let element else { return [] }
        return elementValues(element, clock: opClock).map { ValueWithId(id: exId($0), value: value(of: $0, clock: opClock)) }
    }

    /// The text of a text object (or a list): string elements concatenated, any other value
    /// as U+FFFC, as the reference does.
    package func text(_ object: ObjId, at clock: VectorClock? = nil) -> String {
        guard let index = objectIndex(object) else { return "" }
        return text(index, clock: opClock(clock))
    }

    func text(_ object: Int32, clock: OpClock?) -> String {
        var output = ""
        for element in visibleElements(object, clock: clock) {
            guard let winner = elementWinner(element, clock: clock) else { continue }
            if case .string(let piece) = ops[Int(winner)].value, ops[Int(winner)].action == .put {
                output += piece
            } else {
                output += "\u{FFFC}"
            }
        }
        return output
    }
}
