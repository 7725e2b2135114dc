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
            + markNames.capacity * 12
    }

    /// Decodes the op columns, keeping the ops (stored and synthesised deletes) owned by the rows of
    /// `batch`. Every op's owner is still checked, so a pass over any batch finds an op without a change.
    ///
    /// - Parameter reserve: an upper bound on the ops the batch owns (from `DocumentOps.plan`).
    init(
        _ document: DocumentChunk,
        rows: ChangeRows,
        owners: OpOwners,
        batch: Batch,
        limits: DocumentLimits = .default,
        collecting: Set<Int>? = nil
    ) throws(AutomergeError) {
        let actorCount = document.actors.count
        let actorOrder = DocumentChunk.actorOrder(document.actors)
        firstRow = batch.lower.row
        let reserve = collecting == nil ? batch.ops : 0
        func keeps(_ row: Int, _ counter: UInt32) -> Bool { collecting == nil && batch.contains(row: row, counter: counter) }
        // Collecting: the actors a split change's ops name besides its author (see `encodeChange`).
        func collect(_ row: Int, _ actors: Int32...) {
            guard let collecting, collecting.contains(row) else { return }
            for actor in actors where actor >= 0 { collected[row, default: []].insert(actor) }
        }
        ops.reserveCapacity(reserve)
        // The owning row of each kept op, in `ops` order.
        var rowOfOp: [Int32] = []
        rowOfOp.reserveCapacity(reserve)
        func owner(_ counter: UInt32, _ actor: Int32) throws(AutomergeError) -> Int {
            guard let row = owners.row(actor: actor, counter: counter) else {
                throw .invalidDocument("op \(counter) has no change (incorrect max op)")
            }
            return row
        }
        var seen = 0

        var objActorColumn = RLEDecoder<UInt64>(document.opReader(.objActor))
        var objCounterColumn = RLEDecoder<UInt64>(document.opReader(.objCounter))
        var keyActorColumn = RLEDecoder<UInt64>(document.opReader(.keyActor))
        var keyCounterColumn = DeltaDecoder(document.opReader(.keyCounter))
        var keyStringColumn = RLEDecoder<String>(document.opReader(.keyString))
        var idActorColumn = RLEDecoder<UInt64>(document.opReader(.idActor))
        var idCounterColumn = DeltaDecoder(document.opReader(.idCounter))
        var insertColumn = BooleanDecoder(document.opReader(.insert))
        var actionColumn = RLEDecoder<UInt64>(document.opReader(.action))
        let rawValues = document.opReader(.value)
        valueBytes = rawValues.bytes
        var valueColumn = ValueDecoder(metadata: document.opReader(.valueMetadata), raw: rawValues)
        var succGroupColumn = RLEDecoder<UInt64>(document.opReader(.succGroup))
        var succActorColumn = RLEDecoder<UInt64>(document.opReader(.succActor))
        var succCounterColumn = DeltaDecoder(document.opReader(.succCounter))
        var expandColumn = BooleanDecoder(document.opReader(.expand))
        var markNameColumn = RLEDecoder<String>(document.opReader(.markName))

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

        // Successor bookkeeping for the current (object, key) group: succ id → preds.
        var pending: [UInt64: [PredId]] = [:]
        var groupTemplate = DocOp()
        var groupKey: (objCounter: UInt32, objActor: Int32, keyString: Int32, elemCounter: UInt32, elemActor: Int32)?
        func packed(_ counter: UInt32, _ actor: Int32) -> UInt64 { UInt64(counter) << 32 | UInt64(UInt32(bitPattern: actor)) }
        func sortPreds(_ list: inout [PredId]) {
            list.sort { $0.counter != $1.counter ? $0.counter < $1.counter : actorOrder[Int($0.actor)] < actorOrder[Int($1.actor)] }
        }
        func flushGroup() throws(AutomergeError) {
            guard !pending.isEmpty else { return }
            // Deterministic order; the final per-change sort decides op order anyway.
            for (succ, var list) in pending.sorted(by: { $0.key < $1.key }) {
                var delete = groupTemplate
                delete.idCounter = UInt32(truncatingIfNeeded: succ >> 32)
                delete.idActor = Int32(bitPattern: UInt32(truncatingIfNeeded: succ))
                guard delete.idActor >= 0, Int(delete.idActor) < actorCount else { throw .invalidDocument("invalid actor id") }
                seen += 1
                guard seen <= limits.maximumOps else { throw .invalidDocument("more than \(limits.maximumOps) ops") }
                let row = try owner(delete.idCounter, delete.idActor)
                if collecting != nil {
                    collect(row, delete.objActor, delete.keyActor)
                    for pred in list { collect(row, pred.actor) }
                }
                guard keeps(row, delete.idCounter) else { continue }
                rowOfOp.append(Int32(row))
                delete.action = UInt8(Action.delete.rawValue)
                delete.insert = false
                delete.expand = false
                delete.valueMeta = 0
                delete.valueStart = 0
                sortPreds(&list)
                delete.predStart = UInt32(preds.count)
                delete.predCount = UInt32(list.count)
                preds.append(contentsOf: list)
                ops.append(delete)
            }
            pending.removeAll(keepingCapacity: true)
        }

        while !actionColumn.isAtEnd {
            seen += 1
            guard seen <= limits.maximumOps else { throw .invalidDocument("more than \(limits.maximumOps) ops") }
            var op = DocOp()
            switch (try objActorColumn.next(), try objCounterColumn.next()) {
            case (nil, nil): break
            case (let actor?, let ctr?):
                op.objActor = try actorIndex(actor)
                op.objCounter = try counter(ctr)
            default: throw .invalidColumns("object actor and counter disagree on null")
            }
            switch (try keyActorColumn.next(), try keyCounterColumn.next(), try keyStringColumn.next()) {
            case (nil, nil, let string?): op.keyString = intern(string)
            case (nil, 0?, nil): break
            case (let actor?, let ctr?, nil) where ctr > 0:
                op.keyActor = try actorIndex(actor)
                op.keyCounter = try counter(UInt64(ctr))
            default: throw .invalidColumns("invalid key")
            }
            op.idActor = try actorIndex(try idActorColumn.nextNonNull("id actor"))
            guard let idCounter = try idCounterColumn.nextCounter("id counter"), idCounter > 0 else {
                throw .invalidColumns("missing or zero op id counter")
            }
            op.idCounter = UInt32(idCounter)
            let row = try owner(op.idCounter, op.idActor)
            let kept = keeps(row, op.idCounter)
            op.insert = try insertColumn.next()
            let action = try actionColumn.nextNonNull("action")
            guard action <= Action.mark.rawValue else { throw .unknownAction(action) }
            op.action = UInt8(action)
            let (valueMeta, valueRange) = try valueColumn.nextRaw()
            // Every op is kept by exactly one batch: its value is checked there.
            if kept { try ScalarValue.validate(metadata: valueMeta, bytes: valueBytes, range: valueRange) }
            guard valueMeta <= UInt64(UInt32.max) else { throw .invalidValue("value of \(valueMeta >> 4) bytes is too large") }
            op.valueMeta = UInt32(valueMeta)
            op.valueStart = UInt32(valueRange.lowerBound)
            op.expand = try expandColumn.next()
            let markName = try markNameColumn.next().map { kept ? intern($0) : -1 }

            // Group change: flush pending deletes of the previous group.
            let isMap = op.keyString >= 0
            let elemCounter = isMap ? 0 : (op.insert ? op.idCounter : op.keyCounter)
            let elemActor = isMap ? -1 : (op.insert ? op.idActor : op.keyActor)
            let key = (op.objCounter, op.objActor, op.keyString, elemCounter, elemActor)
            if let current = groupKey, current == key {
                // Same group as the previous op.
            } else {
                try flushGroup()
                groupKey = key
                groupTemplate = DocOp()
                groupTemplate.objCounter = op.objCounter
                groupTemplate.objActor = op.objActor
                groupTemplate.keyString = op.keyString
                groupTemplate.keyCounter = elemCounter
                groupTemplate.keyActor = elemActor
            }

            // This op's preds are the ops that listed it as a successor.
            let predList = pending.removeValue(forKey: packed(op.idCounter, op.idActor))
            if collecting != nil {
                collect(row, op.objActor, op.keyActor)
                for pred in predList ?? [] { collect(row, pred.actor) }
            }
            if !kept {
                // Only its successors matter here: they may be deletes (or ops) this batch keeps.
            } else if var list = predList {
                sortPreds(&list)
                op.predStart = UInt32(preds.count)
                op.predCount = UInt32(list.count)
                preds.append(contentsOf: list)
            } else {
                op.predStart = UInt32(preds.count)
            }
            let succCount = try succGroupColumn.next() ?? 0
            guard succCount <= UInt64(limits.maximumOps) else { throw .invalidDocument("successor count \(succCount) too large") }
            for _ in 0..<succCount {
                let succActor = try actorIndex(try succActorColumn.nextNonNull("succ actor"))
                guard let succCounter = try succCounterColumn.nextCounter("succ counter") else {
                    throw .invalidColumns("unexpected null in column succ counter")
                }
                pending[packed(UInt32(succCounter), succActor), default: []].append(PredId(counter: op.idCounter, actor: op.idActor))
            }
            guard kept else { continue }
            // Synthesised deletes may have been appended above: index the mark name now.
            if let markName { markNames[Int32(ops.count)] = markName }
            rowOfOp.append(Int32(row))
            ops.append(op)
        }
        try flushGroup()
        guard
            objActorColumn.isAtEnd && objCounterColumn.isAtEnd && keyActorColumn.isAtEnd && keyCounterColumn.isAtEnd
                && keyStringColumn.isAtEnd && idActorColumn.isAtEnd && idCounterColumn.isAtEnd && insertColumn.isAtEnd
                && valueColumn.isAtEnd && succGroupColumn.isAtEnd && succActorColumn.isAtEnd && succCounterColumn.isAtEnd
                && expandColumn.isAtEnd && markNameColumn.isAtEnd
        else { throw .invalidColumns("op columns have different lengths") }

        if collecting == nil { try bucketByChange(rows: rows, batch: batch, rowOfOp: rowOfOp) }
    }

    /// For `collecting`: per split row, the actors its ops name (object, key, preds; author included).
    private(set) var collected: [Int: Set<Int32>] = [:]

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
        return others
    }

    /// The op id counter at a position of `order`.
    func counter(at position: Int) -> UInt32 { ops[Int(order[position])].idCounter }

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
                markName: markNames[order[position]].map { strings[Int($0)] }
            )
            for id in preds[Int(op.predStart)..<Int(op.predStart + op.predCount)] {
                encoder.appendPred(counter: UInt64(id.counter), actor: scratch[Int(id.actor)])
            }
        }
    }
}

/// Bounds on what a document may make this process allocate. Real documents are far below the
/// defaults; hostile run lengths hit them instead of exhausting memory.
public struct DocumentLimits: Sendable {
    public var maximumChanges: Int
    public var maximumOps: Int
    /// The most ops a rebuild holds at once: a larger document's op columns are read once per batch
    /// of changes that own at most this many (see `DocumentOps`). About 64 bytes per op.
    public var batchOps: Int

    public init(maximumChanges: Int, maximumOps: Int, batchOps: Int = DocumentLimits.defaultBatchOps) {
        self.maximumChanges = maximumChanges
        self.maximumOps = maximumOps
        self.batchOps = batchOps
    }

    /// 2^17 ops: a batch of about 8 MB, and a few passes for a document of a million ops.
    public static let defaultBatchOps = 1 << 17

    public static let `default` = DocumentLimits(maximumChanges: 1 << 24, maximumOps: 1 << 26)
}
