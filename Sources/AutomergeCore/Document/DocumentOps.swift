/// The op columns of a document, decoded into a compact form and regrouped by change.
///
/// Deletes are not stored in documents: they are synthesised here from the successor lists
/// of the ops they removed (docs/binary-format.md §5.5 step 4). Ops are then bucketed by the change that owns
/// them (same actor, smallest maxOp ≥ counter) and sorted by counter inside each change.
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
    private var rowStart: [Int] = []

    func range(ofRow row: Int) -> Range<Int> { rowStart[row]..<rowStart[row + 1] }

    init(_ document: DocumentChunk, rows: ChangeRows, limits: DocumentLimits = .default) throws(AutomergeError) {
        let actorCount = document.actors.count
        let actorOrder = DocumentChunk.actorOrder(document.actors)
        // Per actor: (maxOp, row) in seq order, to find each op's change.
        var actorChanges = [[(maxOp: UInt64, row: Int)]](repeating: [], count: actorCount)
        for row in 0..<rows.count { actorChanges[Int(rows.actor[row])].append((UInt64(rows.maxOp[row]), row)) }

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
            guard ops.count < limits.maximumOps else { throw .invalidDocument("more than \(limits.maximumOps) ops") }
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
            op.insert = try insertColumn.next()
            let action = try actionColumn.nextNonNull("action")
            guard action <= Action.mark.rawValue else { throw .unknownAction(action) }
            op.action = UInt8(action)
            let (valueMeta, valueRange) = try valueColumn.nextRaw()
            try ScalarValue.validate(metadata: valueMeta, bytes: valueBytes, range: valueRange)
            guard valueMeta <= UInt64(UInt32.max) else { throw .invalidValue("value of \(valueMeta >> 4) bytes is too large") }
            op.valueMeta = UInt32(valueMeta)
            op.valueStart = UInt32(valueRange.lowerBound)
            op.expand = try expandColumn.next()
            let markName = try markNameColumn.next().map(intern)

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
            if var list = pending.removeValue(forKey: packed(op.idCounter, op.idActor)) {
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
            // Synthesised deletes may have been appended above: index the mark name now.
            if let markName { markNames[Int32(ops.count)] = markName }
            ops.append(op)
        }
        try flushGroup()
        guard
            objActorColumn.isAtEnd && objCounterColumn.isAtEnd && keyActorColumn.isAtEnd && keyCounterColumn.isAtEnd
                && keyStringColumn.isAtEnd && idActorColumn.isAtEnd && idCounterColumn.isAtEnd && insertColumn.isAtEnd
                && valueColumn.isAtEnd && succGroupColumn.isAtEnd && succActorColumn.isAtEnd && succCounterColumn.isAtEnd
                && expandColumn.isAtEnd && markNameColumn.isAtEnd
        else { throw .invalidColumns("op columns have different lengths") }

        try bucketByChange(rows: rows, actorChanges: actorChanges)
    }

    /// Counting sort of op indexes by owning change, then by counter within each change.
    private mutating func bucketByChange(rows: ChangeRows, actorChanges: [[(maxOp: UInt64, row: Int)]]) throws(AutomergeError) {
        var rowOfOp = [Int32](repeating: 0, count: ops.count)
        var counts = [Int](repeating: 0, count: rows.count + 1)
        for (index, op) in ops.enumerated() {
            let changes = actorChanges[Int(op.idActor)]
            // First change of this actor whose maxOp ≥ the op's counter.
            var low = 0
            var high = changes.count
            while low < high {
                let middle = (low + high) / 2
                if changes[middle].maxOp < UInt64(op.idCounter) { low = middle + 1 } else { high = middle }
            }
            guard low < changes.count else { throw .invalidDocument("op \(op.idCounter) has no change (incorrect max op)") }
            let row = changes[low].row
            rowOfOp[index] = Int32(row)
            counts[row + 1] += 1
        }
        rowStart = counts
        for row in 0..<rows.count { rowStart[row + 1] += rowStart[row] }
        var fill = rowStart
        order = [Int32](repeating: 0, count: ops.count)
        for index in ops.indices {
            let row = Int(rowOfOp[index])
            order[fill[row]] = Int32(index)
            fill[row] += 1
        }
        for row in 0..<rows.count {
            let range = rowStart[row]..<rowStart[row + 1]
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
            if !range.isEmpty && expected - 1 != UInt64(rows.maxOp[row]) { throw .invalidDocument("incorrect max op in change \(row)") }
        }
    }

    /// Encodes the change for `row` straight from the op table (no per-op values are built),
    /// with change-local actor indexes, and returns its hash.
    func encodeChange(
        row: Int,
        author: Int,
        actors: [ActorId],
        actorOrder: [Int],
        deps: [ChangeHash],
        startOp: UInt64,
        rows: ChangeRows,
        scratch: inout [Int],
        encoder: inout ChangeEncoder
    ) throws(AutomergeError) -> ChangeHash {
        let range = range(ofRow: row)
        // Other actors: every non-author actor the ops reference, ordered by bytes.
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
        others.sort { actorOrder[$0] < actorOrder[$1] }
        // scratch maps document actor → change-local index (reset below).
        scratch[author] = 0
        for (position, index) in others.enumerated() { scratch[index] = position + 1 }
        defer {
            scratch[author] = -1
            for index in others { scratch[index] = -1 }
        }

        encoder.beginOps()
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
        return encoder.finish(
            deps: deps,
            actor: actors[author],
            seq: UInt64(rows.seq[row]),
            startOp: startOp,
            time: rows.time[row],
            message: rows.message(row),
            otherActors: others.map { actors[$0] },
            extraBytes: rows.extra(row)
        )
    }
}

/// Bounds on what a document may make this process allocate. Real documents are far below the
/// defaults; hostile run lengths hit them instead of exhausting memory.
public struct DocumentLimits: Sendable {
    public var maximumChanges: Int
    public var maximumOps: Int

    public init(maximumChanges: Int, maximumOps: Int) {
        self.maximumChanges = maximumChanges
        self.maximumOps = maximumOps
    }

    public static let `default` = DocumentLimits(maximumChanges: 1 << 24, maximumOps: 1 << 26)
}
