/// Which ops are visible at some heads, as the largest op counter per actor included: an op is
/// included iff its change is an ancestor of (or equal to) the heads. This relies on every
/// change depending, directly or not, on its author's previous change, which all Automerge
/// writers guarantee.
struct OpClock {
    /// Indexed by the op set's internal actor index.
    var maxOps: [UInt32]

    @inline(__always) func includes(_ counter: UInt32, _ actor: Int32) -> Bool {
        Int(actor) < maxOps.count && counter <= maxOps[Int(actor)]
    }
}

extension OpSet {
    func opClock(_ clock: VectorClock?) -> OpClock? {
        guard let clock else { return nil }
        return OpClock(maxOps: actors.map { UInt32(truncatingIfNeeded: min(clock[$0], UInt64(UInt32.max))) })
    }

    @inline(__always) func isValueAction(_ action: Action) -> Bool {
        switch action {
        case .put, .makeMap, .makeList, .makeText, .makeTable: return true
        case .delete, .increment, .mark: return false
        }
    }

    /// Whether an op holds a visible value at `clock` (nil = now): included, a value op, and
    /// not superseded by an included successor — except that increments do not hide a counter.
    func isVisible(_ index: Int32, clock: OpClock?) -> Bool {
        let op = ops[Int(index)]
        guard isValueAction(op.action) else { return false }
        if let clock, !clock.includes(op.counter, op.actor) { return false }
        var isCounter = false
        if case .counter = op.value, op.action == .put { isCounter = true }
        var entry = op.firstSucc
        while entry >= 0 {
            let succ = succs[Int(entry)]
            if clock?.includes(succ.counter, succ.actor) ?? true {
                if !(isCounter && succ.op >= 0 && ops[Int(succ.op)].action == .increment) { return false }
            }
            entry = succ.next
        }
        return true
    }

    /// A counter's value at `clock`: its base plus the included increments that succeed it.
    func counterValue(_ index: Int32, base: Int64, clock: OpClock?) -> Int64 {
        var total = base
        var entry = ops[Int(index)].firstSucc
        while entry >= 0 {
            let succ = succs[Int(entry)]
            if succ.op >= 0, ops[Int(succ.op)].action == .increment, clock?.includes(succ.counter, succ.actor) ?? true {
                switch ops[Int(succ.op)].value {
                case .int(let delta): total = total &+ delta
                case .uint(let delta): total = total &+ Int64(truncatingIfNeeded: delta)
                default: break
                }
            }
            entry = succ.next
        }
        return total
    }

    /// Whether a sequence element shows a value at `clock`, without building the value list.
    func elementIsVisible(_ element: Int32, clock: OpClock?) -> Bool {
        if isVisible(element, clock: clock) { return true }
        guard let others = objects[Int(ops[Int(element)].object)].elementOps[element] else { return false }
        for op in others where isVisible(op, clock: clock) { return true }
        return false
    }

    /// The winning value op of a sequence element at `clock`, without allocating (most
    /// elements have no op besides their insert).
    func elementWinner(_ element: Int32, clock: OpClock?) -> Int32? {
        var best: Int32? = isVisible(element, clock: clock) ? element : nil
        guard let others = objects[Int(ops[Int(element)].object)].elementOps[element] else { return best }
        for op in others where isVisible(op, clock: clock) {
            if let current = best, !lamportLess(current, op) { continue }
            best = op
        }
        return best
    }

    /// The visible value ops of a sequence element, in Lamport order (the last one wins).
    func elementValues(_ element: Int32, clock: OpClock?) -> [Int32] {
        let record = ops[Int(element)]
        var result: [Int32] = []
        if isVisible(element, clock: clock) { result.append(element) }
        if let others = objects[Int(record.object)].elementOps[element] {
            for op in others where isVisible(op, clock: clock) { result.append(op) }
            if result.count > 1 { result.sort { lamportLess($0, $1) } }
        }
        return result
    }

    /// The visible value ops at a map key, in Lamport order (the last one wins).
    func keyValues(object: Int32, key: Int32, clock: OpClock?) -> [Int32] {
        guard let candidates = objects[Int(object)].keyOps[key] else { return [] }
        var result = candidates.filter { isVisible($0, clock: clock) }
        if result.count > 1 { result.sort { lamportLess($0, $1) } }
        return result
    }
}
