/// A mark over a range of a text: `start` and `end` count UTF-16 code units, as JavaScript
/// positions do.
package struct TextMark: Equatable, Sendable {
    package var name: String
    package var value: ScalarValue
    package var start: Int
    package var end: Int
}

extension OpSet {
    /// The marks of a text, sorted by name (UTF-8 bytes), then start.
    ///
    /// Walks the sequence once: a mark-begin op (which carries the name and value) activates a
    /// mark, the mark-end op whose id is the begin's counter + 1 (same actor) deactivates it.
    /// For each name the active mark with the highest op id wins; a null value is no mark.
    /// Adjacent characters with the same winning value form one range; empty ranges are dropped.
    package func marks(_ object: ObjId, at clock: VectorClock? = nil) -> [TextMark] {
        guard let index = objectIndex(object), objects[Int(index)].kind.isSequence else { return [] }
        let clock = opClock(clock)
        var active: [Int32: [Int32]] = [:]  // name → begin ops, unsorted
        var open: [Int32: (value: ScalarValue, start: Int)] = [:]
        var result: [TextMark] = []
        var position = 0

        func winner(_ name: Int32) -> ScalarValue? {
            guard let candidates = active[name], var best = candidates.first else { return nil }
            for op in candidates.dropFirst() where lamportLess(best, op) { best = op }
            let value = ops[Int(best)].value
            if case .null = value { return nil }
            return value
        }
        func close(_ name: Int32) {
            if let current = open.removeValue(forKey: name), current.start < position {
                result.append(TextMark(name: strings[Int(name)], value: current.value, start: current.start, end: position))
            }
        }
        func update(_ name: Int32) {
            let value = winner(name)
            if let current = open[name], let value, current.value == value { return }
            close(name)
            if let value { open[name] = (value, position) }
        }

        try? objects[Int(index)].sequence.forEach { (element: Int32) throws(AutomergeError) in
            let op = ops[Int(element)]
            if op.action == .mark {
                if let clock, !clock.includes(op.counter, op.actor) { return }
                if op.markName >= 0 {
                    active[op.markName, default: []].append(element)
                    update(op.markName)
                } else if op.counter > 1, let begin = opIndex[Self.pack(op.counter - 1, op.actor)], ops[Int(begin)].markName >= 0 {
                    let name = ops[Int(begin)].markName
                    active[name]?.removeAll { $0 == begin }
                    update(name)
                }
                return
            }
            let visible = clock == nil ? op.elementVisible : elementIsVisible(element, clock: clock)
            guard visible, let winner = elementWinner(element, clock: clock) else { return }
            if case .string(let piece) = ops[Int(winner)].value, ops[Int(winner)].action == .put {
                position += piece.utf16.count
            } else {
                position += 1
            }
        }
        for name in Array(open.keys) { close(name) }
        result.sort { $0.name != $1.name ? $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) : $0.start < $1.start }
        return result
    }
}
