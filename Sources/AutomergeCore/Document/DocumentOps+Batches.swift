/// Which change row owns an op id: an actor's op with counter c belongs to that actor's first
/// change (in seq order) whose maxOp ≥ c. 8 bytes per change.
///
/// Flat arrays grouped by actor (`actorStart`), not an array per actor: the rebuild asks once per
/// op decoded, and reading an inner array would retain and release it every time.
struct OpOwners {
    /// Per actor, where its changes start in `maxOps` and `rows` (one more entry than actors).
    private var actorStart: [Int]
    private var maxOps: [UInt32]
    private var rows: [Int32]

    init(_ changeRows: ChangeRows, actorCount: Int) {
        var start = [Int](repeating: 0, count: actorCount + 1)
        for row in 0..<changeRows.count { start[Int(changeRows.actor[row]) + 1] += 1 }
        for actor in 0..<actorCount { start[actor + 1] += start[actor] }
        var fill = start
        maxOps = [UInt32](repeating: 0, count: changeRows.count)
        rows = [Int32](repeating: 0, count: changeRows.count)
        for row in 0..<changeRows.count {
            let actor = Int(changeRows.actor[row])
            maxOps[fill[actor]] = changeRows.maxOp[row]
            rows[fill[actor]] = Int32(row)
            fill[actor] += 1
        }
        actorStart = start
    }

    func row(actor: Int32, counter: UInt32) -> Int? { owner(actor: actor, counter: counter)?.row }

    /// The owning row and the counters it owns (`above` exclusive, `through` inclusive): ops come
    /// in runs of one change, so a caller can answer the next op from this without a search.
    func owner(actor: Int32, counter: UInt32) -> (row: Int, above: UInt32, through: UInt32)? {
        owner(actor: actor, counter: counter, hint: nil).map { ($0.row, $0.above, $0.through) }
    }

    /// `owner(actor:counter:)`, also giving the owner's position among the actor's changes; `hint`
    /// is a position to try before searching (ops in order belong to consecutive changes).
    @inline(__always)
    func owner(actor: Int32, counter: UInt32, hint: Int?) -> (row: Int, above: UInt32, through: UInt32, position: Int)? {
        guard actor >= 0, Int(actor) < actorStart.count - 1 else { return nil }
        let first = actorStart[Int(actor)]
        let end = actorStart[Int(actor) + 1]
        return maxOps.withUnsafeBufferPointer { maxOps in
            var low = first
            if let hint, hint < end - first, maxOps[first + hint] >= counter, hint == 0 || maxOps[first + hint - 1] < counter {
                low = first + hint
            } else {
                var high = end
                while low < high {
                    let middle = (low + high) / 2
                    if maxOps[middle] < counter { low = middle + 1 } else { high = middle }
                }
                guard low < end else { return nil }
            }
            return (Int(rows[low]), low > first ? maxOps[low - 1] : 0, maxOps[low], low - first)
        }
    }

    /// The counters of `actor` that the rows of `batch` own, as `(above, through]` (empty when
    /// `above >= through`): an actor's changes own consecutive counter ranges, so a batch's rows
    /// own one range per actor, and a pass over some blocks tests an op without a search.
    func counters(of actor: Int, in batch: DocumentOps.Batch) -> (above: UInt32, through: UInt32) {
        let list = rows[actorStart[actor]..<actorStart[actor + 1]]
        let lastRow = batch.upper.counter > 0 ? batch.upper.row : batch.upper.row - 1
        let first = list.partitioningIndex(where: { Int($0) >= batch.lower.row })
        let end = list.partitioningIndex(where: { Int($0) > lastRow })
        guard first < end else { return (0, 0) }
        var above = first > list.startIndex ? maxOps[first - 1] : 0
        var through = maxOps[end - 1]
        if Int(list[first]) == batch.lower.row && batch.lower.counter > 0 { above = max(above, batch.lower.counter - 1) }
        if Int(list[end - 1]) == batch.upper.row && batch.upper.counter > 0 { through = min(through, batch.upper.counter - 1) }
        return (above, through)
    }

    var actorCount: Int { actorStart.count - 1 }

    var bytes: Int { actorStart.capacity * 8 + maxOps.capacity * 4 + rows.capacity * 4 }
}

extension DocumentOps {
    /// One pass of the rebuild: the ops whose (owning row, counter) lies in `lower..<upper`, in
    /// that lexicographic order, and an upper bound on how many there are. A change with more ops
    /// than a batch holds is split by counter over several batches.
    struct Batch: Equatable {
        var lower: (row: Int, counter: UInt32)
        var upper: (row: Int, counter: UInt32)
        var ops: Int

        static func == (a: Batch, b: Batch) -> Bool {
            a.lower == b.lower && a.upper == b.upper && a.ops == b.ops
        }

        func contains(row: Int, counter: UInt32) -> Bool {
            (row > lower.row || (row == lower.row && counter >= lower.counter))
                && (row < upper.row || (row == upper.row && counter < upper.counter))
        }

        /// The rows with ops in this batch.
        var rows: ClosedRange<Int> { lower.row...(upper.counter == 0 ? upper.row - 1 : upper.row) }

        /// Whether the row's first ops are in this batch (it is not continued from an earlier one).
        func begins(row: Int) -> Bool { row > lower.row || lower.counter == 0 }
        /// Whether the row's last ops are in this batch.
        func ends(row: Int) -> Bool { row < upper.row }
        func holdsAll(ofRow row: Int) -> Bool { begins(row: row) && ends(row: row) }
    }

    /// Per row, an upper bound on its ops that reads no op: a change's ops are its counters from
    /// its startOp to its maxOp, and its startOp is past its author's previous maxOp.
    static func opBounds(_ rows: ChangeRows, actorCount: Int) -> [UInt32] {
        var previousMaxOp = [UInt32](repeating: 0, count: actorCount)
        var bounds = [UInt32](repeating: 0, count: rows.count)
        for row in 0..<rows.count {
            let actor = Int(rows.actor[row])
            bounds[row] = rows.maxOp[row] &- min(previousMaxOp[actor], rows.maxOp[row])
            previousMaxOp[actor] = rows.maxOp[row]
        }
        return bounds
    }

    /// Splits the ops from `start` on into batches of at most `budget` ops, given each row's op
    /// count (or a bound on it). A change with more is split by counter, in pieces of `budget`
    /// counters aligned on its maxOp (its counters run without gaps up to it).
    static func batches(sizes: [UInt32], rows: ChangeRows, from start: (row: Int, counter: UInt32), budget: Int) -> [Batch] {
        var batches: [Batch] = []
        var lower = start
        var total = 0
        for row in start.row..<rows.count {
            let maxOp = Int(rows.maxOp[row])
            var count = Int(sizes[row])
            if row == start.row && start.counter > 0 { count = min(count, max(0, maxOp + 1 - Int(start.counter))) }
            if count > budget {
                if total > 0 {
                    batches.append(Batch(lower: lower, upper: (row, 0), ops: total))
                    lower = (row, 0)
                }
                let pieces = (count + budget - 1) / budget
                for piece in 0..<(pieces - 1) {
                    let end = UInt32(clamping: maxOp + 1 - (pieces - 1 - piece) * budget)
                    // (The count may overstate the ops: a piece below counter 1 holds nothing.)
                    guard end > (lower.row == row ? lower.counter : 0) else { continue }
                    batches.append(Batch(lower: lower, upper: (row, end), ops: budget))
                    lower = (row, end)
                }
                total = budget
                continue
            }
            if total > 0 && total + count > budget {
                batches.append(Batch(lower: lower, upper: (row, 0), ops: total))
                lower = (row, 0)
                total = 0
            }
            total += count
        }
        if lower.row < rows.count { batches.append(Batch(lower: lower, upper: (rows.count, 0), ops: total)) }
        return batches
    }
}

extension ArraySlice where Element == Int32 {
    /// The first index whose element satisfies `predicate`, which holds for a suffix.
    fileprivate func partitioningIndex(where predicate: (Int32) -> Bool) -> Int {
        var low = startIndex
        var high = endIndex
        while low < high {
            let middle = (low + high) / 2
            if predicate(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
