extension OpSet {
    /// The JSON view of the document (the reference's `toJS`): maps as objects, lists as
    /// arrays, text as strings, counters as their value, timestamps in milliseconds, bytes as
    /// arrays of numbers, only the winner of a conflict. `clock` nil = the current state.
    package func json(at clock: VectorClock? = nil) -> AutomergeJSON {
        json(object: 0, clock: opClock(clock))
    }

    func json(object: Int32, clock: OpClock?) -> AutomergeJSON {
        let state = objects[Int(object)]
        switch state.kind {
        case .map, .table:
            var members: [(String, AutomergeJSON)] = []
            for (key, list) in state.keyOps {
                var winner: Int32 = -1
                for op in list where isVisible(op, clock: clock) && (winner < 0 || lamportLess(winner, op)) { winner = op }
                if winner >= 0 { members.append((strings[Int(key)], json(op: winner, clock: clock))) }
            }
            return .object(members)
        case .text:
            return .string(text(object, clock: clock))
        case .list:
            return .array(
                visibleElements(object, clock: clock).compactMap { element in
                    elementWinner(element, clock: clock).map { json(op: $0, clock: clock) }
                }
            )
        }
    }

    func json(op index: Int32, clock: OpClock?) -> AutomergeJSON {
        let op = ops[Int(index)]
        if op.child >= 0 { return json(object: op.child, clock: clock) }
        switch op.value {
        case .null: return .null
        case .bool(let value): return .bool(value)
        case .uint(let value): return .uint(value)
        case .int(let value): return .int(value)
        case .f64(let value): return .double(value)
        case .string(let value): return .string(value)
        case .bytes(let value), .unknown(_, let value): return .array(value.map { .int(Int64($0)) })
        case .counter(let base): return .int(counterValue(index, base: base, clock: clock))
        case .timestamp(let value): return .int(value)
        }
    }
}
