/// The decoders of a document's op columns, advanced together one op at a time.
///
/// Every decoder is a value: copying the cursor saves its position, and a copy resumes decoding
/// exactly there. The rebuild keeps copies at block starts (`OpIndex`) so that a later batch
/// decodes only the blocks holding its ops instead of the whole table again.
struct OpCursor {
    var objActor: RLEDecoder<UInt64>
    var objCounter: RLEDecoder<UInt64>
    var keyActor: RLEDecoder<UInt64>
    var keyCounter: DeltaDecoder
    var keyString: RLEDecoder<String>
    var idActor: RLEDecoder<UInt64>
    var idCounter: DeltaDecoder
    var insert: BooleanDecoder
    var action: RLEDecoder<UInt64>
    var value: ValueDecoder
    var succGroup: RLEDecoder<UInt64>
    var succActor: RLEDecoder<UInt64>
    var succCounter: DeltaDecoder
    var expand: BooleanDecoder
    var markName: RLEDecoder<String>
    /// Ops decoded so far (the position of the next op in the table).
    var position = 0

    init(_ document: DocumentChunk) {
        objActor = RLEDecoder(document.opReader(.objActor))
        objCounter = RLEDecoder(document.opReader(.objCounter))
        keyActor = RLEDecoder(document.opReader(.keyActor))
        keyCounter = DeltaDecoder(document.opReader(.keyCounter))
        keyString = RLEDecoder(document.opReader(.keyString))
        idActor = RLEDecoder(document.opReader(.idActor))
        idCounter = DeltaDecoder(document.opReader(.idCounter))
        insert = BooleanDecoder(document.opReader(.insert))
        action = RLEDecoder(document.opReader(.action))
        value = ValueDecoder(metadata: document.opReader(.valueMetadata), raw: document.opReader(.value))
        succGroup = RLEDecoder(document.opReader(.succGroup))
        succActor = RLEDecoder(document.opReader(.succActor))
        succCounter = DeltaDecoder(document.opReader(.succCounter))
        expand = BooleanDecoder(document.opReader(.expand))
        markName = RLEDecoder(document.opReader(.markName))
    }

    /// Whether every column is used up (a document's columns must all end together).
    var allAtEnd: Bool {
        objActor.isAtEnd && objCounter.isAtEnd && keyActor.isAtEnd && keyCounter.isAtEnd && keyString.isAtEnd
            && idActor.isAtEnd && idCounter.isAtEnd && insert.isAtEnd && value.isAtEnd && succGroup.isAtEnd
            && succActor.isAtEnd && succCounter.isAtEnd && expand.isAtEnd && markName.isAtEnd
    }
}

/// Where the ops of each stretch of the op table belong, recorded by a rebuild's first (whole)
/// pass over the op columns so that later batches read only the stretches holding their ops.
///
/// The table is cut into blocks of about `blockOps` ops, each starting at an (object, key) group
/// (so the deletes synthesised from a group's successors belong to the block that holds it); a
/// block keeps a cursor positioned at its first op and the smallest and largest (change row,
/// counter) of the ops it yields. Text typed in order, the common large document, puts each
/// batch's ops in a few neighbouring blocks: after the indexing pass the rebuild reads the table
/// about once more in all. Scattered edits (a long editing history) put ops of most batches in
/// most blocks, and those blocks are read once per batch.
struct OpIndex {
    struct Block {
        var start: OpCursor
        var ops: Int
        var low: (row: Int, counter: UInt32)
        var high: (row: Int, counter: UInt32)
        /// Which of 64 equal stretches of the change rows (`OpIndex.rowBucket`) own ops of this
        /// block: a block edited over a long history spans most rows from `low` to `high`, yet
        /// holds ops of only a few stretches of them.
        var rowMask: UInt64 = 0

        func intersects(_ batch: DocumentOps.Batch) -> Bool {
            let belowUpper = low.row < batch.upper.row || (low.row == batch.upper.row && low.counter < batch.upper.counter)
            let atLeastLower = high.row > batch.lower.row || (high.row == batch.lower.row && high.counter >= batch.lower.counter)
            return belowUpper && atLeastLower
        }
    }

    /// Rows per stretch of `Block.rowMask` (a document of `rowCount` changes in 64 stretches).
    static func rowsPerBucket(rowCount: Int) -> Int { max(1, (rowCount + 63) / 64) }

    /// Whether `block` may hold ops of `batch`: its row range and its row stretches both meet
    /// the batch's rows.
    func block(_ block: Block, intersects batch: DocumentOps.Batch) -> Bool {
        guard block.intersects(batch) else { return false }
        let rows = batch.rows
        let first = rows.lowerBound / rowsPerBucket
        let last = min(63, rows.upperBound / rowsPerBucket)
        guard first <= last else { return false }
        let span = last - first + 1
        let mask = span >= 64 ? UInt64.max : ((UInt64(1) << UInt64(span)) - 1) << UInt64(first)
        return block.rowMask & mask != 0
    }

    var blocks: [Block] = []
    /// Per change row, its ops (stored and synthesised deletes), counted exactly.
    var counts: [UInt32]
    /// See `Block.rowMask`.
    var rowsPerBucket: Int
    /// Per row that may be split over batches, the actors its ops name (author included).
    var splitActors: [Int: Set<Int32>] = [:]

    /// About how many ops a block holds: a few per batch, so a batch reads little beyond its own.
    /// (Small blocks prune better where edits are scattered: essay.amrg reads its table about 3 times
    /// in all with 512, 6 with 16,384; each block keeps a cursor of about 2 KB: 2 MB of index there.)
    static func blockOps(batchOps: Int) -> Int { min(512, max(16, batchOps / 256)) }

    /// What the index holds, by its own accounting.
    var bytes: Int {
        blocks.capacity * MemoryLayout<Block>.stride + counts.capacity * 4
            + splitActors.reduce(0) { $0 + 16 + $1.value.capacity * 4 }
    }
}
