import ByteEncodings

/// The op columns of a document, decoded into a compact form and regrouped by change, for one
/// batch of consecutive change rows at a time.
///
/// Deletes are not stored in documents: they are synthesised here from the successor lists
/// of the ops they removed (docs/binary-format.md §5.5 step 4). Ops are then bucketed by the change that owns
/// them (same actor, smallest maxOp ≥ counter) and sorted by counter inside each change.
///
/// A document's ops are stored by object and key, not by change, so the ops of one change are
/// spread over the whole op table. Rather than hold every op of a large document at once, the
/// rebuild decodes the op columns once per batch of rows and keeps only the ops those rows own:
/// memory follows the batch (`DocumentLimits.batchOps`), not the document.
struct DocumentOps {
    /// One op, ids as indexes into the document's actor table: 48 bytes, no references (a
    /// large document holds hundreds of thousands of them at once).
    struct DocOp {
        var objCounter: UInt32 = 0
        var objActor: Int32 = -1  // -1: the root
        var keyCounter: UInt32 = 0
        var keyActor: Int32 = -1  // -1: null (map key or HEAD)
        var keyString: Int32 = -1  // index into `strings`; -1: a sequence op
        var idCounter: UInt32 = 0
        var idActor: Int32 = 0
        var action: UInt8 = 0
        var insert = false
        var expand = false
        var valueMeta: UInt32 = 0
        var valueStart: UInt32 = 0
        var predStart: UInt32 = 0
        var predCount: UInt32 = 0
    }

    struct PredId {
        var counter: UInt32
        var actor: Int32
    }

    private(set) var ops: [DocOp] = []
    private(set) var preds: [PredId] = []
    private(set) var strings: [String] = []
    /// `strings` as a change column writes them (`EncodedStrings`): length-prefixed UTF-8.
    private var stringBytes: [UInt8] = []
    private var stringStarts: [Int32] = [0]
    /// Mark names by op index: only mark-begin ops have one.
    private var markNames: [Int32: Int32] = [:]
    private(set) var valueBytes: [UInt8] = []
    /// Op indexes grouped by change row, each group sorted by counter.
    private(set) var order: [Int32] = []
    /// Per row of the batch (from `firstRow`), where its ops start in `order`.
    private var rowStart: [Int32] = []
    private var firstRow = 0

    func range(ofRow row: Int) -> Range<Int> { Int(rowStart[row - firstRow])..<Int(rowStart[row - firstRow + 1]) }

    /// What this table holds, by its own accounting (capacities, not the process's RSS).
    var bytes: Int {
        ops.capacity * MemoryLayout<DocOp>.stride + preds.capacity * MemoryLayout<PredId>.stride
            + order.capacity * MemoryLayout<Int32>.stride + rowStart.capacity * MemoryLayout<Int32>.stride
            + strings.reduce(strings.capacity * MemoryLayout<String>.stride) { $0 + ($1.utf8.count > 15 ? $1.utf8.count + 32 : 0) }
            + markNames.capacity * 12 + stringBytes.capacity + stringStarts.capacity * 4
    }

    /// Decodes the op columns, keeping the ops (stored and synthesised deletes) owned by the rows of
    /// `batch`.
    ///
    /// Without `index`, the whole table is read and every op's owner is checked; with `indexing`
    /// (the rows that may be split over batches), that pass also records the `OpIndex` later
    /// batches use (`index` afterwards). With `index`, only the blocks that hold ops of `batch`
    /// are read, each resumed from its saved cursor.
    init(
        _ document: DocumentChunk,
        rows: ChangeRows,
        owners: OpOwners,
        batch: Batch,
        limits: DocumentLimits = .default,
        index given: OpIndex? = nil,
        indexing candidates: Set<Int>? = nil
    ) throws(AutomergeError) {
        let actorCount = document.actors.count
        let actorOrder = DocumentChunk.actorOrder(document.actors)
        firstRow = batch.lower.row
        func keeps(_ row: Int, _ counter: UInt32) -> Bool { batch.contains(row: row, counter: counter) }
        ops.reserveCapacity(batch.ops)
        // The owning row of each kept op, in `ops` order.
        var rowOfOp: [Int32] = []
        rowOfOp.reserveCapacity(batch.ops)
        var lastOwner = (actor: Int32(-1), above: UInt32(0), through: UInt32(0), row: 0, position: 0)
        func owner(_ counter: UInt32, _ actor: Int32) throws(AutomergeError) -> Int {
            if actor == lastOwner.actor && counter > lastOwner.above && counter <= lastOwner.through { return lastOwner.row }
            // Text typed in order: the next op usually belongs to the author's next change.
            let hint = actor == lastOwner.actor && counter > lastOwner.through ? lastOwner.position + 1 : nil
            guard let found = owners.owner(actor: actor, counter: counter, hint: hint) else {
                throw .invalidDocument("op \(counter) has no change (incorrect max op)")
            }
            lastOwner = (actor, found.above, found.through, found.row, found.position)
            return found.row
        }
        var seen = 0

        // A pass over some blocks tests ops by counter range, and looks up owners of kept ops only.
        let keptCounters = given == nil ? [] : (0..<owners.actorCount).map { owners.counters(of: $0, in: batch) }
        func keeps(actor: Int32, counter: UInt32) -> Bool {
            let range = keptCounters[Int(actor)]
            return counter > range.above && counter <= range.through
        }

        var cursor = OpCursor(document)
        valueBytes = document.opReader(.value).bytes

        // Indexing (a whole pass that records an `OpIndex`): exact per-row counts, blocks, and the
        // actors named by the ops of rows that may be split (their change-local actor table comes
        // before their ops, see `encodeChange`).
        let indexing = given == nil && candidates != nil
        let blockOps = OpIndex.blockOps(batchOps: limits.batchOps)
        var counts = indexing ? [UInt32](repeating: 0, count: rows.count) : []
        var isCandidate = [Bool](repeating: false, count: indexing && !(candidates ?? []).isEmpty ? rows.count : 0)
        for row in candidates ?? [] where row < isCandidate.count { isCandidate[row] = true }
        var collected: [Int: Set<Int32>] = [:]
        var blocks: [OpIndex.Block] = []
        var blockStart = cursor
        // The cursor before the current op, saved only once the block is full (a flag, not an
        // optional: testing an optional cursor would copy it for every op).
        var nextBlockStart = cursor
        var nextBlockSaved = false
        var blockCount = 0
        var blockLow = (row: Int.max, counter: UInt32.max)
        var blockHigh = (row: -1, counter: UInt32(0))
        var blockMask: UInt64 = 0
        let rowsPerBucket = OpIndex.rowsPerBucket(rowCount: rows.count)
        func note(_ row: Int, _ counter: UInt32) {
            counts[row] &+= 1
            blockMask |= UInt64(1) << UInt64(min(63, row / rowsPerBucket))
            if row < blockLow.row || (row == blockLow.row && counter < blockLow.counter) { blockLow = (row, counter) }
            if row > blockHigh.row || (row == blockHigh.row && counter > blockHigh.counter) { blockHigh = (row, counter) }
        }
        // Ops mostly name the actors their neighbours named: the last (row, actor) skips the set.
        var lastCollected = (row: -1, actor: Int32(-1))
        func collect(_ row: Int, _ actor: Int32) {
            guard actor >= 0, row < isCandidate.count, isCandidate[row], lastCollected != (row, actor) else { return }
            lastCollected = (row, actor)
            collected[row, default: []].insert(actor)
        }
        func closeBlock(next: OpCursor) {
            if blockCount > 0 {
                blocks.append(OpIndex.Block(start: blockStart, ops: blockCount, low: blockLow, high: blockHigh, rowMask: blockMask))
            }
            blockStart = next
            blockCount = 0
            blockMask = 0
            blockLow = (Int.max, UInt32.max)
            blockHigh = (-1, 0)
        }

        var stringIndex: [[UInt8]: Int32] = [:]
        var lastKey: (string: String, index: Int32)?
        func intern(_ string: String) -> Int32 {
            if let lastKey, lastKey.string.utf8.elementsEqual(string.utf8) { return lastKey.index }
            let key = Array(string.utf8)
            let index: Int32
            if let existing = stringIndex[key] {
                index = existing
            } else {
                index = Int32(strings.count)
                strings.append(string)
                stringIndex[key] = index
                LEB128.appendUnsigned(UInt64(key.count), to: &stringBytes)
                stringBytes.append(contentsOf: key)
                stringStarts.append(Int32(stringBytes.count))
            }
            lastKey = (string, index)
            return index
        }
        func actorIndex(_ raw: UInt64) throws(AutomergeError) -> Int32 {
            guard raw < UInt64(actorCount) else { throw .invalidDocument("invalid actor id \(raw)") }
            return Int32(raw)
        }
        func counter(_ raw: UInt64) throws(AutomergeError) -> UInt32 {
            guard raw <= UInt64(UInt32.max) else { throw .counterTooLarge(raw) }
            return UInt32(raw)
        }

        // Successor bookkeeping for the current (object, key) group: succ id → preds. A pass over
        // some blocks only records the successors this batch keeps.
        var pending = PendingSuccessors()
        // Reused per op and per group (no array per successor list).
        var taken: [PredId] = []
        var drained: [(succ: UInt64, start: Int, count: Int)] = []
        var groupTemplate = DocOp()
        var groupKey: (objCounter: UInt32, objActor: Int32, keyString: Int32, elemCounter: UInt32, elemActor: Int32)?
        func packed(_ counter: UInt32, _ actor: Int32) -> UInt64 { UInt64(counter) << 32 | UInt64(UInt32(bitPattern: actor)) }
        func sortPreds(_ list: inout ArraySlice<PredId>) {
            guard list.count > 1 else { return }
            list.sort { $0.counter != $1.counter ? $0.counter < $1.counter : actorOrder[Int($0.actor)] < actorOrder[Int($1.actor)] }
        }
        func flushGroup() throws(AutomergeError) {
            guard !pending.isEmpty else { return }
            // Deterministic order (by successor); the final per-change sort decides op order anyway.
            pending.drain(into: &drained, preds: &taken)
            for entry in drained {
                let succ = entry.succ
                let list = entry.start..<(entry.start + entry.count)
                var delete = groupTemplate
                delete.idCounter = UInt32(truncatingIfNeeded: succ >> 32)
                delete.idActor = Int32(bitPattern: UInt32(truncatingIfNeeded: succ))
                guard delete.idActor >= 0, Int(delete.idActor) < actorCount else { throw .invalidDocument("invalid actor id") }
                seen += 1
                guard seen <= limits.maximumOps else { throw .invalidDocument("more than \(limits.maximumOps) ops") }
                let row = try owner(delete.idCounter, delete.idActor)
                if indexing {
                    note(row, delete.idCounter)
                    collect(row, delete.objActor)
                    collect(row, delete.keyActor)
                    for pred in taken[list] { collect(row, pred.actor) }
                }
                guard keeps(row, delete.idCounter) else { continue }
                rowOfOp.append(Int32(row))
                delete.action = UInt8(Action.delete.rawValue)
                delete.insert = false
                delete.expand = false
                delete.valueMeta = 0
                delete.valueStart = 0
                sortPreds(&taken[list])
                delete.predStart = UInt32(preds.count)
                delete.predCount = UInt32(list.count)
                preds.append(contentsOf: taken[list])
                ops.append(delete)
            }
        }

        /// Decodes the op at the cursor and keeps it (and its group's deletes) if the batch owns them.
        func step() throws(AutomergeError) {
            if indexing && blockCount >= blockOps {
                nextBlockStart = cursor
                nextBlockSaved = true
            }
            cursor.position += 1
            opsRead += 1
            seen += 1
            guard seen <= limits.maximumOps else { throw .invalidDocument("more than \(limits.maximumOps) ops") }
            var op = DocOp()
            switch (try cursor.objActor.next(), try cursor.objCounter.next()) {
            case (nil, nil): break
            case (let actor?, let ctr?):
                op.objActor = try actorIndex(actor)
                op.objCounter = try counter(ctr)
            default: throw .invalidColumns("object actor and counter disagree on null")
            }
            switch (try cursor.keyActor.next(), try cursor.keyCounter.next(), try cursor.keyString.next()) {
            case (nil, nil, let string?): op.keyString = intern(string)
            case (nil, 0?, nil): break
            case (let actor?, let ctr?, nil) where ctr > 0:
                op.keyActor = try actorIndex(actor)
                op.keyCounter = try counter(UInt64(ctr))
            default: throw .invalidColumns("invalid key")
            }
            op.idActor = try actorIndex(try cursor.idActor.nextNonNull("id actor"))
            guard let idCounter = try cursor.idCounter.nextCounter("id counter"), idCounter > 0 else {
                throw .invalidColumns("missing or zero op id counter")
            }
            op.idCounter = try counter(idCounter)
            let row: Int
            let kept: Bool
            if given == nil {
                row = try owner(op.idCounter, op.idActor)
                kept = keeps(row, op.idCounter)
            } else {
                kept = keeps(actor: op.idActor, counter: op.idCounter)
                row = kept ? try owner(op.idCounter, op.idActor) : -1
            }
            op.insert = try cursor.insert.next()
            let action = try cursor.action.nextNonNull("action")
            guard action <= Action.mark.rawValue else { throw .unknownAction(action) }
            op.action = UInt8(action)
            let (valueMeta, valueRange) = try cursor.value.nextRaw()
            // Every op is kept by exactly one batch: its value is checked there.
            if kept { try ScalarValue.validate(metadata: valueMeta, bytes: valueBytes, range: valueRange) }
            guard valueMeta <= UInt64(UInt32.max) else { throw .invalidValue("value of \(valueMeta >> 4) bytes is too large") }
            op.valueMeta = UInt32(valueMeta)
            op.valueStart = UInt32(valueRange.lowerBound)
            op.expand = try cursor.expand.next()
            let markName = try cursor.markName.next().map { kept ? intern($0) : -1 }

            // Group change: flush pending deletes of the previous group.
            let isMap = op.keyString >= 0
            let elemCounter = isMap ? 0 : (op.insert ? op.idCounter : op.keyCounter)
            let elemActor = isMap ? -1 : (op.insert ? op.idActor : op.keyActor)
            let key = (op.objCounter, op.objActor, op.keyString, elemCounter, elemActor)
            if let current = groupKey, current == key {
                // Same group as the previous op.
            } else {
                try flushGroup()
                // A block ends only between groups, so its deletes stay with it.
                if nextBlockSaved { closeBlock(next: nextBlockStart) }
                groupKey = key
                groupTemplate = DocOp()
                groupTemplate.objCounter = op.objCounter
                groupTemplate.objActor = op.objActor
                groupTemplate.keyString = op.keyString
                groupTemplate.keyCounter = elemCounter
                groupTemplate.keyActor = elemActor
            }
            nextBlockSaved = false
            blockCount += 1

            // This op's preds are the ops that listed it as a successor.
            let hasPreds = !pending.isEmpty && pending.take(packed(op.idCounter, op.idActor), into: &taken)
            if indexing {
                note(row, op.idCounter)
                collect(row, op.objActor)
                collect(row, op.keyActor)
                if hasPreds { for pred in taken { collect(row, pred.actor) } }
            }
            if !kept {
                // Only its successors matter here: they may be deletes (or ops) this batch keeps.
            } else if hasPreds {
                sortPreds(&taken[...])
                op.predStart = UInt32(preds.count)
                op.predCount = UInt32(taken.count)
                preds.append(contentsOf: taken)
            } else {
                op.predStart = UInt32(preds.count)
            }
            let succCount = try cursor.succGroup.next() ?? 0
            guard succCount <= UInt64(limits.maximumOps) else { throw .invalidDocument("successor count \(succCount) too large") }
            for _ in 0..<succCount {
                let succActor = try actorIndex(try cursor.succActor.nextNonNull("succ actor"))
                guard let succCounter = try cursor.succCounter.nextCounter("succ counter") else {
                    throw .invalidColumns("unexpected null in column succ counter")
                }
                let succ = try counter(succCounter)
                // A pass over some blocks: a successor another batch owns needs no bookkeeping here
                // (the whole pass checked every op's owner).
                if given != nil, !keeps(actor: succActor, counter: succ) { continue }
                pending.add(succ: packed(succ, succActor), pred: PredId(counter: op.idCounter, actor: op.idActor))
            }
            guard kept else { return }
            // Synthesised deletes may have been appended above: index the mark name now.
            if let markName { markNames[Int32(ops.count)] = markName }
            rowOfOp.append(Int32(row))
            ops.append(op)
        }

        if let given {
            for block in given.blocks where given.block(block, intersects: batch) {
                if cursor.position != block.start.position { cursor = block.start }
                for _ in 0..<block.ops { try step() }
                try flushGroup()
                groupKey = nil
            }
        } else {
            while !cursor.action.isAtEnd { try step() }
            try flushGroup()
            guard cursor.allAtEnd else { throw .invalidColumns("op columns have different lengths") }
            if indexing {
                closeBlock(next: cursor)
                index = OpIndex(blocks: blocks, counts: counts, rowsPerBucket: rowsPerBucket, splitActors: collected)
            }
        }

        try bucketByChange(rows: rows, batch: batch, rowOfOp: rowOfOp)
    }

    /// After a whole pass with `indexing`: what later batches need to read only their blocks.
    private var index: OpIndex?
    /// Ops this pass decoded.
    private(set) var opsRead = 0

    /// The index the pass built, handed over (so the op table and it are not both copied).
    mutating func takeIndex() -> OpIndex? {
        defer { index = nil }
        return index
    }

    /// Counting sort of op indexes by owning change, then by counter within each change.
    private mutating func bucketByChange(rows: ChangeRows, batch: Batch, rowOfOp: [Int32]) throws(AutomergeError) {
        let rowCount = batch.rows.count
        rowStart = [Int32](repeating: 0, count: rowCount + 1)
        for row in rowOfOp { rowStart[Int(row) - firstRow + 1] += 1 }
        for local in 0..<rowCount { rowStart[local + 1] += rowStart[local] }
        do {
            var fill = rowStart
            order = [Int32](repeating: 0, count: ops.count)
            for index in ops.indices {
                let local = Int(rowOfOp[index]) - firstRow
                order[Int(fill[local])] = Int32(index)
                fill[local] += 1
            }
        }
        for row in batch.rows {
            let range = range(ofRow: row)
            if range.count > 1 {
                order[range].sort { ops[Int($0)].idCounter < ops[Int($1)].idCounter }
            }
            // Op ids are implicit in a change: its counters must run without gaps up to maxOp.
            var expected = range.isEmpty ? 0 : UInt64(ops[Int(order[range.lowerBound])].idCounter)
            for position in range {
                guard UInt64(ops[Int(order[position])].idCounter) == expected else {
                    throw .invalidDocument("ops of change \(row) are not contiguous")
                }
                expected += 1
            }
            // A change split over batches is checked across its pieces by the rebuild loop.
            if !range.isEmpty && batch.holdsAll(ofRow: row) && expected - 1 != UInt64(rows.maxOp[row]) {
                throw .invalidDocument("incorrect max op in change \(row)")
            }
        }
    }

    /// The actors the ops in `range` name besides `author` (objects, keys, preds), unsorted.
    func otherActors(in range: Range<Int>, author: Int) -> [Int] {
        var others: [Int] = []
        otherActors(in: range, author: author, into: &others)
        return others
    }

    /// `otherActors(in:author:)` into a buffer the caller reuses.
    func otherActors(in range: Range<Int>, author: Int, into others: inout [Int]) {
        others.removeAll(keepingCapacity: true)
        func note(_ actor: Int32) {
            let index = Int(actor)
            if actor >= 0 && index != author && !others.contains(index) { others.append(index) }
        }
        for position in range {
            let op = ops[Int(order[position])]
            note(op.objActor)
            note(op.keyActor)
            for pred in preds[Int(op.predStart)..<Int(op.predStart + op.predCount)] { note(pred.actor) }
        }
    }

    /// The op id counter at a position of `order`.
    func counter(at position: Int) -> UInt32 { ops[Int(order[position])].idCounter }

    /// The interned strings as the rebuild's column writers read them.
    func withEncodedStrings<Result>(_ body: (EncodedStrings) -> Result) -> Result {
        stringBytes.withUnsafeBytes { bytes in
            stringStarts.withUnsafeBufferPointer { starts in body(EncodedStrings(bytes: bytes, starts: starts)) }
        }
    }

    /// Appends the ops in `range` to a change begun with `encoder.beginOps()` (the rebuild's own
    /// encoder; its bytes are `appendOps`'s). `scratch` maps document actors to change-local
    /// indexes. The op table is read through its buffers: nothing is retained or checked per op.
    func encodeOps(_ range: Range<Int>, scratch: [Int], encoder: inout RebuildChangeEncoder) {
        let hasMarks = !markNames.isEmpty
        ops.withUnsafeBufferPointer { ops in
            order.withUnsafeBufferPointer { order in
                preds.withUnsafeBufferPointer { preds in
                    valueBytes.withUnsafeBytes { values in
                        scratch.withUnsafeBufferPointer { scratch in
                            withEncodedStrings { strings in
                                for position in range {
                                    let index = order[position]
                                    let op = ops[Int(index)]
                                    if op.objActor < 0 {
                                        encoder.objActor.appendNull(strings)
                                        encoder.objCounter.appendNull(strings)
                                    } else {
                                        encoder.objActor.append(UInt64(scratch[Int(op.objActor)]), strings)
                                        encoder.objCounter.append(UInt64(op.objCounter), strings)
                                    }
                                    if op.keyString >= 0 {
                                        encoder.keyActor.appendNull(strings)
                                        encoder.keyCounter.appendNull()
                                        encoder.keyString.append(UInt64(op.keyString), strings)
                                    } else if op.keyActor < 0 {
                                        encoder.keyActor.appendNull(strings)
                                        encoder.keyCounter.append(0)
                                        encoder.keyString.appendNull(strings)
                                    } else {
                                        encoder.keyActor.append(UInt64(scratch[Int(op.keyActor)]), strings)
                                        encoder.keyCounter.append(Int64(op.keyCounter))
                                        encoder.keyString.appendNull(strings)
                                    }
                                    encoder.insert.append(op.insert)
                                    encoder.action.append(UInt64(op.action), strings)
                                    encoder.valueMetadata.append(UInt64(op.valueMeta), strings)
                                    let start = Int(op.valueStart)
                                    encoder.value.append(UnsafeRawBufferPointer(rebasing: values[start..<(start + Int(op.valueMeta >> 4))]))
                                    encoder.predGroup.append(UInt64(op.predCount), strings)
                                    let predStart = Int(op.predStart)
                                    for pred in predStart..<(predStart + Int(op.predCount)) {
                                        encoder.predActor.append(UInt64(scratch[Int(preds[pred].actor)]), strings)
                                        encoder.predCounter.append(Int64(preds[pred].counter))
                                    }
                                    encoder.expand.append(op.expand)
                                    // Most documents have no marks: no lookup per op then.
                                    if hasMarks, let name = markNames[index] {
                                        encoder.markName.append(UInt64(name), strings)
                                    } else {
                                        encoder.markName.appendNull(strings)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Appends the ops in `range` to a change begun with `encoder.beginOps()`, straight from the op
    /// table (no per-op values are built). `scratch` maps document actors to change-local indexes.
    func appendOps(_ range: Range<Int>, scratch: [Int], encoder: inout ChangeEncoder) {
        for position in range {
            let op = ops[Int(order[position])]
            if op.objActor < 0 {
                encoder.appendRootObject()
            } else {
                encoder.appendObject(counter: UInt64(op.objCounter), actor: scratch[Int(op.objActor)])
            }
            if op.keyString >= 0 {
                encoder.appendMapKey(strings[Int(op.keyString)])
            } else if op.keyActor < 0 {
                encoder.appendHeadKey()
            } else {
                encoder.appendElementKey(counter: UInt64(op.keyCounter), actor: scratch[Int(op.keyActor)])
            }
            let start = Int(op.valueStart)
            encoder.appendOpBody(
                insert: op.insert,
                action: UInt64(op.action),
                valueMetadata: UInt64(op.valueMeta),
                valueBytes: valueBytes[start..<(start + Int(op.valueMeta >> 4))],
                predCount: Int(op.predCount),
                expand: op.expand,
                // Most documents have no marks: no lookup per op then.
                markName: markNames.isEmpty ? nil : markNames[order[position]].map { strings[Int($0)] }
            )
            for id in preds[Int(op.predStart)..<Int(op.predStart + op.predCount)] {
                encoder.appendPred(counter: UInt64(id.counter), actor: scratch[Int(id.actor)])
            }
        }
    }
}

/// Bounds on what a document may make this process allocate. Real documents are far below the
/// defaults; hostile run lengths hit them instead of exhausting memory.
package struct DocumentLimits: Sendable {
    package var maximumChanges: Int
    package var maximumOps: Int
    /// The most ops a rebuild holds at once: a larger document's op columns are read once per batch
    /// of changes that own at most this many (see `DocumentOps`). About 64 bytes per op.
    package var batchOps: Int

    package init(maximumChanges: Int, maximumOps: Int, batchOps: Int = DocumentLimits.defaultBatchOps) {
        self.maximumChanges = maximumChanges
        self.maximumOps = maximumOps
        self.batchOps = batchOps
    }

    /// 2^17 ops: a batch of about 8 MB, and a few passes for a document of a million ops.
    package static let defaultBatchOps = 1 << 17

    package static let `default` = DocumentLimits(maximumChanges: 1 << 24, maximumOps: 1 << 26)
}
