extension DocumentChunk {
    /// Rebuilds the original changes with byte-identical hashes (docs/binary-format.md §5.5) and verifies them
    /// against the stored heads. Changes are handed to `sink` in the document's (topological)
    /// row order; nothing per op outlives the call.
    package func rebuildChanges(
        limits: DocumentLimits = .default,
        _ sink: (RebuiltChange) throws(AutomergeError) -> Void
    ) throws(AutomergeError) {
        var statistics = RebuildStatistics()
        try rebuildChanges(limits: limits, statistics: &statistics, sink)
    }

    /// `rebuildChanges(limits:_:)`, reporting what the rebuild held.
    package func rebuildChanges(
        limits: DocumentLimits = .default,
        statistics: inout RebuildStatistics,
        _ sink: (RebuiltChange) throws(AutomergeError) -> Void
    ) throws(AutomergeError) {
        var hashes: [ChangeHash] = []
        try rebuild(limits: limits, statistics: &statistics) { (row: RebuiltRow) throws(AutomergeError) in
            hashes.append(row.hash)
            let bytes = Array(row.chunk)
            var reader = ByteReader(bytes, range: 9..<bytes.count)
            _ = try reader.readULEB()
            let chunk = ChangeChunk(verifiedBytes: bytes, hash: row.hash, bodyStart: reader.offset)
            let deps = row.depRows.map { hashes[$0] }.sorted()
            let metadata = ChangeMetadata(
                hash: row.hash,
                deps: deps,
                actor: actors[row.author],
                seq: row.seq,
                startOp: row.startOp,
                maxOp: row.maxOp,
                time: row.time,
                message: row.message
            )
            try sink(RebuiltChange(chunk: chunk, metadata: metadata))
        }
    }

    /// One rebuilt change as the rebuild loop produces it. `chunk` is memory the loop reuses, valid
    /// only while the sink runs: copy it to keep it.
    struct RebuiltRow {
        var row: Int
        var hash: ChangeHash
        var author: Int
        var seq: UInt64
        var startOp: UInt64
        var maxOp: UInt64
        var time: Int64
        var message: String?
        /// The message as stored in the document (see `ChangeRows.storedMessage`).
        var storedMessage: String?
        var depRows: [Int]
        /// Whether the change has bytes after its op columns (kept by a graph that otherwise keeps
        /// no document change's bytes: `save` needs them).
        var hasExtraBytes: Bool
        var chunk: UnsafeRawBufferPointer
    }

    /// What a rebuild held, by its own accounting (array capacities, not the process's RSS).
    package struct RebuildStatistics: Sendable, Equatable {
        /// Passes over the op columns that kept ops (1 for most documents; more for large ones).
        package var batches = 0
        /// The largest op table of one batch, in bytes.
        package var peakOpTableBytes = 0
        /// Ops decoded over all passes (each op once in a single pass; a little more when batched).
        package var opsRead = 0
        /// The op index later batches read their blocks by (0 for a single batch).
        package var indexBytes = 0
        /// What the rebuild keeps for the whole document at once: the change columns decoded per
        /// row, the op owners, the rebuilt hashes and the head check (bytes per change × changes).
        package var perChangeBytes = 0
        /// The most the rebuild held at once: `perChangeBytes`, the index and the largest op table.
        package var peakBytes: Int { perChangeBytes + indexBytes + peakOpTableBytes }

        package init() {}

        mutating func merge(_ other: RebuildStatistics) {
            batches += other.batches
            opsRead += other.opsRead
            indexBytes = max(indexBytes, other.indexBytes)
            peakOpTableBytes = max(peakOpTableBytes, other.peakOpTableBytes)
            perChangeBytes = max(perChangeBytes, other.perChangeBytes)
        }
    }

    /// The rebuild loop: one canonical encoder reused for every change, rows handed out in
    /// document (topological) order, heads verified at the end.
    ///
    /// A streaming pass: the op columns are read once per batch of rows (`DocumentOps.plan`), and
    /// only that batch's ops are held; each rebuilt change is hashed, handed to `sink` and let go.
    /// What outlives a batch is a few bytes per change (its row, owner entry, hash).
    @discardableResult
    func rebuild(
        limits: DocumentLimits,
        prepare: (Int) -> Void = { _ in },
        _ sink: (RebuiltRow) throws(AutomergeError) -> Void
    ) throws(AutomergeError) -> [ChangeHash] {
        var statistics = RebuildStatistics()
        return try rebuild(limits: limits, statistics: &statistics, prepare: prepare, sink)
    }

    @discardableResult
    func rebuild(
        limits: DocumentLimits,
        statistics: inout RebuildStatistics,
        prepare: (Int) -> Void = { _ in },
        _ sink: (RebuiltRow) throws(AutomergeError) -> Void
    ) throws(AutomergeError) -> [ChangeHash] {
        let rows = try ChangeRows(self, limits: limits)
        prepare(rows.count)
        let owners = OpOwners(rows, actorCount: actors.count)
        let budget = max(1, limits.batchOps)
        let bounds = DocumentOps.opBounds(rows, actorCount: actors.count)
        // Planned from the bounds first; once the first (whole) pass has counted every row's ops,
        // the rest is planned again from the counts.
        var batches = DocumentOps.batches(sizes: bounds, rows: rows, from: (0, 0), budget: budget)
        var index: OpIndex?
        var hashes: [ChangeHash] = []
        hashes.reserveCapacity(rows.count)
        var isDependedOn = [Bool](repeating: false, count: rows.count)
        let actorOrder = Self.actorOrder(actors)
        // Changes held whole by one batch (all but those of more than `batchOps` ops) are encoded
        // by the rebuild's raw-buffer encoder; a change split over batches by `ChangeEncoder`, whose
        // column state does not depend on a batch's string table. Their bytes are the same.
        var encoder = ChangeEncoder()
        var fast = RebuildChangeEncoder(actors: actors)
        defer { fast.deallocate() }
        var actorScratch = [Int](repeating: -1, count: actors.count)
        var stats = RebuildStatistics()
        stats.perChangeBytes = rows.bytes + owners.bytes + hashes.capacity * MemoryLayout<ChangeHash>.stride + isDependedOn.capacity
        // The change being encoded: begun in one batch, it may end in a later one.
        var others: [Int] = []
        // Per-change buffers reused from one change to the next (no allocation per change).
        var depRows: [Int] = []
        var deps: [ChangeHash] = []
        var firstCounter: UInt32?
        var lastCounter: UInt32?

        var next = 0
        while next < batches.count {
            let batch = batches[next]
            next += 1
            // This batch's ops only; freed before the next batch is read.
            let ops: DocumentOps
            if let index {
                ops = try DocumentOps(self, rows: rows, owners: owners, batch: batch, limits: limits, index: index)
            } else if batches.count == 1 {
                ops = try DocumentOps(self, rows: rows, owners: owners, batch: batch, limits: limits)
            } else {
                // The first of several: a whole pass that also indexes the table for the others.
                let candidates = Set(bounds.indices.filter { Int(bounds[$0]) > budget })
                var first = try DocumentOps(self, rows: rows, owners: owners, batch: batch, limits: limits, indexing: candidates)
                guard let built = first.takeIndex() else { throw .invalidDocument("op index missing") }
                // A count past its bound is an invalid document (caught by the contiguity checks):
                // planning with the bound keeps such a change unsplit where its actors are unknown.
                let sizes = zip(built.counts, bounds).map { min($0, $1) }
                batches = DocumentOps.batches(sizes: sizes, rows: rows, from: batch.upper, budget: budget)
                next = 0
                index = built
                stats.indexBytes = built.bytes
                ops = first
            }
            stats.batches += 1
            stats.opsRead += ops.opsRead
            stats.peakOpTableBytes = max(stats.peakOpTableBytes, ops.bytes)
            for row in batch.rows {
                let authorIndex = Int(rows.actor[row])
                let range = ops.range(ofRow: row)
                let whole = batch.holdsAll(ofRow: row)
                if batch.begins(row: row) {
                    // The change-local actor table comes first: a split change's is known from the
                    // first pass.
                    if !batch.ends(row: row) {
                        guard let index else { throw .invalidDocument("change \(row) split without its actors") }
                        others = (index.splitActors[row] ?? []).map(Int.init).filter { $0 != authorIndex }
                    } else {
                        ops.otherActors(in: range, author: authorIndex, into: &others)
                    }
                    if others.count > 1 { others.sort { actorOrder[$0] < actorOrder[$1] } }
                    actorScratch[authorIndex] = 0
                    for (position, index) in others.enumerated() { actorScratch[index] = position + 1 }
                    if whole { fast.beginOps() } else { encoder.beginOps() }
                    firstCounter = nil
                    lastCounter = nil
                }
                if !range.isEmpty {
                    let first = ops.counter(at: range.lowerBound)
                    if let lastCounter, first != lastCounter &+ 1 { throw .invalidDocument("ops of change \(row) are not contiguous") }
                    if firstCounter == nil { firstCounter = first }
                    lastCounter = ops.counter(at: range.upperBound - 1)
                }
                if whole {
                    ops.encodeOps(range, scratch: actorScratch, encoder: &fast)
                } else {
                    ops.appendOps(range, scratch: actorScratch, encoder: &encoder)
                }
                guard batch.ends(row: row) else { continue }
                if !batch.begins(row: row), let lastCounter, lastCounter != rows.maxOp[row] {
                    throw .invalidDocument("incorrect max op in change \(row)")
                }

                rows.deps(of: row, into: &depRows)
                deps.removeAll(keepingCapacity: true)
                for dep in depRows {
                    deps.append(hashes[dep])
                    isDependedOn[dep] = true
                }
                if deps.count > 1 { deps.sort() }
                let startOp = firstCounter.map(UInt64.init) ?? UInt64(rows.maxOp[row]) + 1
                let message = rows.message(row)
                func emit(_ hash: ChangeHash, _ chunk: UnsafeRawBufferPointer) throws(AutomergeError) {
                    actorScratch[authorIndex] = -1
                    for index in others { actorScratch[index] = -1 }
                    hashes.append(hash)
                    try sink(
                        RebuiltRow(
                            row: row,
                            hash: hash,
                            author: authorIndex,
                            seq: UInt64(rows.seq[row]),
                            startOp: startOp,
                            maxOp: UInt64(rows.maxOp[row]),
                            time: rows.time[row],
                            message: message,
                            storedMessage: rows.storedMessage(row),
                            depRows: depRows,
                            hasExtraBytes: !rows.extra(row).isEmpty,
                            chunk: chunk
                        )
                    )
                }
                if whole {
                    let (hash, chunk) = ops.withEncodedStrings { strings in
                        fast.finish(
                            deps: deps,
                            author: authorIndex,
                            seq: UInt64(rows.seq[row]),
                            startOp: startOp,
                            time: rows.time[row],
                            message: message,
                            otherActors: others,
                            extraBytes: rows.extra(row),
                            strings: strings
                        )
                    }
                    try emit(hash, chunk)
                } else {
                    let hash = encoder.finish(
                        deps: deps,
                        actor: actors[authorIndex],
                        seq: UInt64(rows.seq[row]),
                        startOp: startOp,
                        time: rows.time[row],
                        message: message,
                        otherActors: others,
                        in: actors,
                        extraBytes: rows.extra(row)
                    )
                    // (`withUnsafeBytes` rethrows untyped errors: the sink's error is carried out.)
                    var failure: AutomergeError?
                    encoder.chunk.withUnsafeBytes { chunk in
                        do throws(AutomergeError) { try emit(hash, chunk) } catch { failure = error }
                    }
                    if let failure { throw failure }
                }
            }
        }
        statistics.merge(stats)

        var rebuiltHeads: [ChangeHash] = []
        for row in 0..<rows.count where !isDependedOn[row] { rebuiltHeads.append(hashes[row]) }
        rebuiltHeads.sort()
        guard rebuiltHeads == heads.sorted() else { throw .mismatchingHeads }
        if let headIndexes {
            for (head, index) in zip(heads, headIndexes) {
                guard index < hashes.count, hashes[index] == head else { throw .mismatchingHeads }
            }
        }
        return hashes
    }

    /// Rebuilds every change into an array (convenient for small documents and tests).
    package func rebuildChanges(limits: DocumentLimits = .default) throws(AutomergeError) -> [RebuiltChange] {
        var result: [RebuiltChange] = []
        try rebuildChanges(limits: limits) { (change: RebuiltChange) throws(AutomergeError) in result.append(change) }
        return result
    }

    /// Rank of each actor by bytes: the actor table should be sorted, but other actors are
    /// ordered by bytes even if a writer got that wrong.
    static func actorOrder(_ actors: [ActorId]) -> [Int] {
        let sorted = actors.indices.sorted { actors[$0] < actors[$1] }
        var rank = [Int](repeating: 0, count: actors.count)
        for (position, index) in sorted.enumerated() { rank[index] = position }
        return rank
    }
}

extension ChangeMetadata {
    init(
        hash: ChangeHash,
        deps: [ChangeHash],
        actor: ActorId,
        seq: UInt64,
        startOp: UInt64,
        maxOp: UInt64,
        time: Int64,
        message: String?
    ) {
        self.hash = hash
        self.deps = deps
        self.actor = actor
        self.seq = seq
        self.startOp = startOp
        self.maxOp = maxOp
        self.time = time
        self.message = message
    }
}

/// The change columns of a document, one entry per row.
struct ChangeRows {
    private var actors: [Int32] = []
    private var seqs: [UInt32] = []
    private var maxOps: [UInt32] = []
    private(set) var time: [Int64] = []
    /// Index into `messages` per row, -1 for none: most changes have no message.
    private var messageIndex: [Int32] = []
    private var messages: [String] = []
    private var depsStart: [Int32] = [0]
    private var depsFlat: [Int32] = []
    private var extraStart: [UInt32] = []
    private var extraLength: [UInt32] = []
    private(set) var extraBytes: [UInt8] = []
    var count: Int { actors.count }

    /// What the decoded rows hold (capacities; the extra bytes are the column's own buffer).
    var bytes: Int {
        (actors.capacity + seqs.capacity + maxOps.capacity + messageIndex.capacity + depsStart.capacity + depsFlat.capacity) * 4
            + (extraStart.capacity + extraLength.capacity) * 4 + time.capacity * 8
            + messages.reduce(messages.capacity * MemoryLayout<String>.stride) { $0 + ($1.utf8.count > 15 ? $1.utf8.count + 32 : 0) }
    }

    var actor: RowColumn<Int32> { RowColumn(values: actors) }
    var seq: RowColumn<UInt32> { RowColumn(values: seqs) }
    var maxOp: RowColumn<UInt32> { RowColumn(values: maxOps) }
    /// The message as a change chunk carries it: none and "" are the same there.
    func message(_ row: Int) -> String? { storedMessage(row).flatMap { $0.isEmpty ? nil : $0 } }
    /// The message exactly as the document stores it: "" (an explicit empty message) and null
    /// differ here, and a re-saved document must keep them apart.
    func storedMessage(_ row: Int) -> String? { messageIndex[row] < 0 ? nil : messages[Int(messageIndex[row])] }
    func extra(_ row: Int) -> ArraySlice<UInt8> {
        let start = Int(extraStart[row])
        return extraBytes[start..<(start + Int(extraLength[row]))]
    }
    func deps(of row: Int) -> [Int] { depsFlat[Int(depsStart[row])..<Int(depsStart[row + 1])].map(Int.init) }
    /// `deps(of:)` into a buffer the caller reuses.
    func deps(of row: Int, into buffer: inout [Int]) {
        buffer.removeAll(keepingCapacity: true)
        for position in Int(depsStart[row])..<Int(depsStart[row + 1]) { buffer.append(Int(depsFlat[position])) }
    }

    init(_ document: DocumentChunk, limits: DocumentLimits) throws(AutomergeError) {
        var actorColumn = RLEDecoder<UInt64>(document.changeReader(.changeActor))
        var seqColumn = DeltaDecoder(document.changeReader(.changeSeq))
        var maxOpColumn = DeltaDecoder(document.changeReader(.changeMaxOp))
        var timeColumn = DeltaDecoder(document.changeReader(.changeTime))
        var messageColumn = RLEDecoder<String>(document.changeReader(.changeMessage))
        var depsGroup = RLEDecoder<UInt64>(document.changeReader(.changeDepsGroup))
        var depsIndex = DeltaDecoder(document.changeReader(.changeDepsIndex))
        let extraRaw = document.changeReader(.changeExtraValue)
        extraBytes = extraRaw.bytes
        var extraColumn = ValueDecoder(metadata: document.changeReader(.changeExtraMetadata), raw: extraRaw)
        // Per actor (indexed by the actor table, already bounds-checked), its last seq and maxOp.
        var lastSeq = [UInt64?](repeating: nil, count: document.actors.count)
        var lastMaxOp = [UInt64?](repeating: nil, count: document.actors.count)
        var messageIDs: [String: Int32] = [:]
        // Counted first (two short columns): the rows' arrays are allocated once, at size, instead of
        // growing by doubling to up to twice what they need. Rows both columns agree on only, so a
        // hostile run in one column reserves nothing the rows themselves would not take.
        var actorCounter = actorColumn
        var seqCounter = seqColumn
        var rowCount = 0
        while !actorCounter.isAtEnd && !seqCounter.isAtEnd && rowCount < limits.maximumChanges {
            guard (try? actorCounter.next()) != nil, (try? seqCounter.next()) != nil else { break }
            rowCount += 1
        }
        actors.reserveCapacity(rowCount)
        seqs.reserveCapacity(rowCount)
        maxOps.reserveCapacity(rowCount)
        time.reserveCapacity(rowCount)
        messageIndex.reserveCapacity(rowCount)
        depsStart.reserveCapacity(rowCount + 1)
        extraStart.reserveCapacity(rowCount)
        extraLength.reserveCapacity(rowCount)
        depsFlat.reserveCapacity(rowCount)

        while !actorColumn.isAtEnd {
            let row = actors.count
            guard row < limits.maximumChanges else { throw .invalidDocument("more than \(limits.maximumChanges) changes") }
            let rawActor = try actorColumn.nextNonNull("change actor")
            guard rawActor < UInt64(document.actors.count) else { throw .invalidDocument("invalid actor id \(rawActor)") }
            let actorIndex = Int(rawActor)
            guard let seqValue = try seqColumn.nextCounter("seq"), let maxOpValue = try maxOpColumn.nextCounter("maxOp") else {
                throw .invalidDocument("missing seq or maxOp in change \(row)")
            }
            if let previous = lastSeq[actorIndex], seqValue <= previous {
                throw .invalidDocument("changes out of order for actor \(actorIndex)")
            }
            if let previous = lastMaxOp[actorIndex], maxOpValue < previous { throw .invalidDocument("incorrect max op") }
            lastSeq[actorIndex] = seqValue
            lastMaxOp[actorIndex] = maxOpValue
            actors.append(Int32(actorIndex))
            seqs.append(UInt32(seqValue))
            maxOps.append(UInt32(maxOpValue))
            time.append(try timeColumn.next() ?? 0)
            if let message = try messageColumn.next() {
                // Each distinct message once (most documents repeat a few on every change).
                if let last = messageIndex.last, last >= 0, messages[Int(last)] == message {
                    messageIndex.append(last)
                } else if let known = messageIDs[message] {
                    messageIndex.append(known)
                } else {
                    messageIDs[message] = Int32(messages.count)
                    messageIndex.append(Int32(messages.count))
                    messages.append(message)
                }
            } else {
                messageIndex.append(-1)
            }
            let depCount = try depsGroup.next() ?? 0
            guard depCount <= UInt64(row) else { throw .invalidDocument("change \(row) has more deps than earlier changes") }
            for _ in 0..<depCount {
                guard let dep = try depsIndex.next() else { throw .invalidDocument("unexpected null in column deps") }
                guard dep >= 0, dep < Int64(row) else { throw .invalidDocument("change \(row) depends on a later or unknown row \(dep)") }
                depsFlat.append(Int32(dep))
            }
            depsStart.append(Int32(depsFlat.count))
            let (_, extraRange) = try extraColumn.nextRaw()
            extraStart.append(UInt32(extraRange.lowerBound))
            extraLength.append(UInt32(extraRange.count))
        }
        guard
            seqColumn.isAtEnd && maxOpColumn.isAtEnd && timeColumn.isAtEnd && messageColumn.isAtEnd && depsGroup.isAtEnd
                && depsIndex.isAtEnd && extraColumn.isAtEnd
        else { throw .invalidDocument("change columns have different lengths") }
    }
}

/// Read-only access to one compact per-row column.
struct RowColumn<Value> {
    let values: [Value]
    subscript(row: Int) -> Value { values[row] }
}
