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
    /// One pass of the rebuild: consecutive change rows and an upper bound on the ops they own.
    struct Batch: Equatable {
        var rows: Range<Int>
        var ops: Int
    }

    /// Splits the rows into consecutive batches that each own at most `limits.batchOps` ops (a
    /// batch always takes at least one row, so one huge change is a batch of its own).
    ///
    /// A change's ops are its counters from its startOp to its maxOp, and its startOp is past the
    /// author's previous maxOp: the gap between the two maxOps bounds its ops without reading a
    /// single op. When that bound fits one batch (most documents), no op is read here. Otherwise a
    /// counting pass over the op ids and successor lists gives each row its stored ops plus its
    /// successors (which bound its synthesised deletes).
    static func plan(_ document: DocumentChunk, rows: ChangeRows, owners: OpOwners, limits: DocumentLimits) throws(AutomergeError) -> [Batch] {
        guard rows.count > 0 else { return [] }
        let budget = max(1, limits.batchOps)
        var previousMaxOp = [UInt32](repeating: 0, count: document.actors.count)
        var bound = 0
        for row in 0..<rows.count {
            let actor = Int(rows.actor[row])
            bound += Int(rows.maxOp[row] &- min(previousMaxOp[actor], rows.maxOp[row]))
            previousMaxOp[actor] = rows.maxOp[row]
        }
        if bound <= budget { return [Batch(rows: 0..<rows.count, ops: bound)] }

        let counts = try countOps(document, rows: rows, owners: owners, limits: limits)
        var batches: [Batch] = []
        var start = 0
        var total = 0
        for row in 0..<rows.count {
            let count = Int(counts[row])
            if row > start && total + count > budget {
                batches.append(Batch(rows: start..<row, ops: total))
                start = row
                total = 0
            }
            total += count
        }
        batches.append(Batch(rows: start..<rows.count, ops: total))
        return batches
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
