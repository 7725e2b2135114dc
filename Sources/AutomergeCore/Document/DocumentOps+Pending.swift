extension DocumentOps {
    /// The successors named by the ops of the current (object, key) group, each with the ops that
    /// named it (its preds): a later op of the group with that id takes them, and the rest become
    /// synthesised deletes when the group ends (docs/binary-format.md §5.5 step 4).
    ///
    /// A group holds a successor or two at a time in most documents: a short list searched in
    /// place, with no allocation per successor. A group that accumulates many (a key set and
    /// deleted over and over) moves to a dictionary until it ends, so no group costs a search per
    /// op over a long list.
    struct PendingSuccessors {
        private struct Entry {
            var succ: UInt64
            var pred: PredId
        }

        /// Entries past which the group moves to `map`.
        static let listLimit = 16

        private var list: [Entry] = []
        private var map: [UInt64: [PredId]] = [:]
        private var usesMap = false

        var isEmpty: Bool { usesMap ? map.isEmpty : list.isEmpty }

        mutating func add(succ: UInt64, pred: PredId) {
            if !usesMap && list.count >= Self.listLimit {
                for entry in list { map[entry.succ, default: []].append(entry.pred) }
                list.removeAll(keepingCapacity: true)
                usesMap = true
            }
            if usesMap {
                map[succ, default: []].append(pred)
            } else {
                list.append(Entry(succ: succ, pred: pred))
            }
        }

        /// Removes the preds recorded for `succ` into `output` (emptied first, in no particular
        /// order); whether there were any.
        mutating func take(_ succ: UInt64, into output: inout [PredId]) -> Bool {
            output.removeAll(keepingCapacity: true)
            if usesMap {
                guard let preds = map.removeValue(forKey: succ) else { return false }
                output.append(contentsOf: preds)
                return true
            }
            var index = 0
            while index < list.count {
                if list[index].succ == succ {
                    output.append(list[index].pred)
                    list[index] = list[list.count - 1]
                    list.removeLast()
                } else {
                    index += 1
                }
            }
            return !output.isEmpty
        }

        /// Empties the group: each successor once, in increasing order, with its preds at
        /// `start..<start + count` of `preds` (both emptied first).
        mutating func drain(into groups: inout [(succ: UInt64, start: Int, count: Int)], preds: inout [PredId]) {
            groups.removeAll(keepingCapacity: true)
            preds.removeAll(keepingCapacity: true)
            if usesMap {
                for (succ, list) in map.sorted(by: { $0.key < $1.key }) {
                    groups.append((succ, preds.count, list.count))
                    preds.append(contentsOf: list)
                }
                map.removeAll()
                usesMap = false
                return
            }
            if list.count > 1 { list.sort { $0.succ < $1.succ } }
            for entry in list {
                if let last = groups.last, last.succ == entry.succ {
                    groups[groups.count - 1].count += 1
                } else {
                    groups.append((entry.succ, preds.count, 1))
                }
                preds.append(entry.pred)
            }
            list.removeAll(keepingCapacity: true)
        }
    }
}
