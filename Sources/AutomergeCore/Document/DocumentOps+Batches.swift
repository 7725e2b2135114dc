/// Which change row owns an op id: an actor's op with counter c belongs to that actor's first
/// change (in seq order) whose maxOp ≥ c. 8 bytes per change.
struct OpOwners {
    private var maxOps: [[UInt32]]
    private var rows: [[Int32]]

    init(_ changeRows: ChangeRows, actorCount: Int) {
        maxOps = [[UInt32]](repeating: [], count: actorCount)
        rows = [[Int32]](repeating: [], count: actorCount)
        for row in 0..<changeRows.count {
            let actor = Int(changeRows.actor[row])
            maxOps[actor].append(changeRows.maxOp[row])
            rows[actor].append(Int32(row))
        }
    }

    func row(actor: Int32, counter: UInt32) -> Int? {
        guard actor >= 0, Int(actor) < maxOps.count else { return nil }
        let changes = maxOps[Int(actor)]
        var low = 0
        var high = changes.count
        while low < high {
            let middle = (low + high) / 2
            if changes[middle] < counter { low = middle + 1 } else { high = middle }
        }
        return low < changes.count ? Int(rows[Int(actor)][low]) : nil
    }

    var bytes: Int { maxOps.reduce(0) { $0 + $1.capacity * 4 } + rows.reduce(0) { $0 + $1.capacity * 4 } }
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

    /// The batches of a rebuild and, for each change split over several, the actors its ops name.
    struct Plan {
        var batches: [Batch]
        var splitActors: [Int: Set<Int32>]
    }

    /// Splits the ops into batches of at most `limits.batchOps` (a change with more is split by
    /// counter, in pieces of `batchOps` counters).
    ///
    /// A change's ops are its counters from its startOp to its maxOp, and its startOp is past the
    /// author's previous maxOp: the gap between the two maxOps bounds its ops without reading a
    /// single op. When that bound fits one batch (most documents), no op is read here. Otherwise a
    /// counting pass over the op ids and successor lists gives each row its stored ops plus its
    /// successors (which bound its synthesised deletes), and, when a change must be split, one more
    /// pass finds the actors its ops name (its change-local actor table comes before its ops).
    static func plan(_ document: DocumentChunk, rows: ChangeRows, owners: OpOwners, limits: DocumentLimits) throws(AutomergeError) -> Plan {
        guard rows.count > 0 else { return Plan(batches: [], splitActors: [:]) }
        let budget = max(1, limits.batchOps)
        var previousMaxOp = [UInt32](repeating: 0, count: document.actors.count)
        var bound = 0
        for row in 0..<rows.count {
            let actor = Int(rows.actor[row])
            bound += Int(rows.maxOp[row] &- min(previousMaxOp[actor], rows.maxOp[row]))
            previousMaxOp[actor] = rows.maxOp[row]
        }
        if bound <= budget {
            return Plan(batches: [Batch(lower: (0, 0), upper: (rows.count, 0), ops: bound)], splitActors: [:])
        }

        let counts = try countOps(document, rows: rows, owners: owners, limits: limits)
        var batches: [Batch] = []
        var split: Set<Int> = []
        var start = (row: 0, counter: UInt32(0))
        var total = 0
        for row in 0..<rows.count {
            let count = Int(counts[row])
            if count > budget {
                // Pieces of `budget` counters, aligned on the change's maxOp: its counters run up to
                // maxOp and there are at most `count` of them.
                split.insert(row)
                if total > 0 {
                    batches.append(Batch(lower: start, upper: (row, 0), ops: total))
                    start = (row, 0)
                }
                let maxOp = Int(rows.maxOp[row])
                let pieces = (count + budget - 1) / budget
                for piece in 0..<(pieces - 1) {
                    let end = UInt32(clamping: maxOp + 1 - (pieces - 1 - piece) * budget)
                    // (The count may overstate the ops: a piece below counter 1 holds nothing.)
                    guard end > (start.row == row ? start.counter : 0) else { continue }
                    batches.append(Batch(lower: start, upper: (row, end), ops: budget))
                    start = (row, end)
                }
                total = budget
                continue
            }
            if (row > start.row || start.counter > 0) && total + count > budget {
                batches.append(Batch(lower: start, upper: (row, 0), ops: total))
                start = (row, 0)
                total = 0
            }
            total += count
        }
        batches.append(Batch(lower: start, upper: (rows.count, 0), ops: total))
        var splitActors: [Int: Set<Int32>] = [:]
        if !split.isEmpty {
            let everything = Batch(lower: (0, 0), upper: (rows.count, 0), ops: 0)
            splitActors = try DocumentOps(document, rows: rows, owners: owners, batch: everything, limits: limits, collecting: split).collected
            for row in split where splitActors[row] == nil { splitActors[row] = [] }
        }
        return Plan(batches: batches, splitActors: splitActors)
    }

    /// Per row: its stored ops plus the successors naming one of its op ids. Reads five columns.
    private static func countOps(
        _ document: DocumentChunk,
        rows: ChangeRows,
        owners: OpOwners,
        limits: DocumentLimits
    ) throws(AutomergeError) -> [UInt32] {
        var counts = [UInt32](repeating: 0, count: rows.count)
        var idActor = RLEDecoder<UInt64>(document.opReader(.idActor))
        var idCounter = DeltaDecoder(document.opReader(.idCounter))
        var succGroup = RLEDecoder<UInt64>(document.opReader(.succGroup))
        var succActor = RLEDecoder<UInt64>(document.opReader(.succActor))
        var succCounter = DeltaDecoder(document.opReader(.succCounter))
        let actorCount = UInt64(document.actors.count)
        func count(_ counter: UInt64, _ actor: UInt64) throws(AutomergeError) {
            guard actor < actorCount else { throw .invalidDocument("invalid actor id \(actor)") }
            guard let row = owners.row(actor: Int32(actor), counter: UInt32(counter)) else {
                throw .invalidDocument("op \(counter) has no change (incorrect max op)")
            }
            counts[row] &+= 1
        }
        var seen = 0
        while !idActor.isAtEnd {
            seen += 1
            guard seen <= limits.maximumOps else { throw .invalidDocument("more than \(limits.maximumOps) ops") }
            let actor = try idActor.nextNonNull("id actor")
            guard let counter = try idCounter.nextCounter("id counter"), counter > 0 else {
                throw .invalidColumns("missing or zero op id counter")
            }
            try count(counter, actor)
            let successors = try succGroup.next() ?? 0
            guard successors <= UInt64(limits.maximumOps) else { throw .invalidDocument("successor count \(successors) too large") }
            for _ in 0..<successors {
                let actor = try succActor.nextNonNull("succ actor")
                guard let counter = try succCounter.nextCounter("succ counter") else {
                    throw .invalidColumns("unexpected null in column succ counter")
                }
                try count(counter, actor)
            }
        }
        return counts
    }
}
