/// The change DAG of one document: every applied change's metadata and raw bytes, its heads,
/// and a queue of changes whose dependencies have not arrived yet.
///
/// Changes are applied only once their deps are present, so the order of application is a
/// topological order; a change's index in that order is used throughout as its identity.
package struct ChangeGraph: Sendable {
    private(set) var hashes: [ChangeHash] = []
    private var hashIndex = ChangeHashIndex()
    /// The node of each applied change, by hash.
    var indexByHash: HashLookup { HashLookup(table: hashIndex, hashes: hashes) }
    private(set) var actors: [ActorId] = []
    private var actorIndex: [ActorId: Int32] = [:]
    private(set) var nodeActor: [Int32] = []
    private(set) var nodeSeq: [UInt32] = []
    private var nodeStartOp: [UInt32] = []
    private(set) var nodeMaxOp: [UInt32] = []
    private var depsStart: [Int32] = [0]
    private var depsFlat: [Int32] = []
    /// The node of each (actor, seq): per actor, the nodes of seq 1, 2, 3… while they arrive in that
    /// order (as every valid history has them: 4 bytes a change); any other seq in `sparseSeqs`.
    private var seqNodes: [[Int32]] = []
    private var sparseSeqs: [UInt64: Int32] = [:]
    private(set) var store = ChangeStore()
    private(set) var nodeTime: [Int64] = []
    /// Index into `messages` per node, -1 for none. A document may store "" apart from none,
    /// and re-saving it keeps them apart; `metadata(for:)` reports both as nil.
    private(set) var nodeMessage: [Int32] = []
    /// Each distinct message once: apps often write the same message on every change (essay's
    /// 262,961 changes carry a handful of distinct author messages).
    private(set) var messages: [String] = []
    private var messageIDs: [String: Int32] = [:]
    /// Whether the raw bytes of applied changes are kept (a relay needs them; `inspect` does not).
    package let retainsChanges: Bool
    /// Whether the bytes of changes loaded from a document chunk into an empty graph are kept. A
    /// server does not keep them: the stored document holds them, and they are rebuilt from it on
    /// the rare occasions a peer needs a few (changes applied later keep their bytes).
    package let retainsDocumentChanges: Bool
    private(set) var headSet: Set<Int32> = []

    /// Changes waiting for deps, and for each missing hash the queued changes that wait on it.
    private(set) var queued: [ChangeHash: QueuedChange] = [:]
    private(set) var waiting: [ChangeHash: [ChangeHash]] = [:]

    struct QueuedChange: Sendable {
        var chunk: ChangeChunk
        var metadata: ChangeMetadata
    }

    /// The queued hashes in the order of the reference's queue (a `Vec` from which ready
    /// changes are taken with `swap_remove`): it decides the order in which orphans are applied
    /// once their deps arrive, and the order `save()` appends them in.
    private(set) var queueOrder: [ChangeHash] = []
    private var queuePosition: [ChangeHash: Int] = [:]

    package init(retainingChanges: Bool = true, retainingDocumentChanges: Bool = true) {
        retainsChanges = retainingChanges
        retainsDocumentChanges = retainingDocumentChanges
    }

    /// Whether the bytes of an applied change are held (false for unknown hashes).
    package func hasBytes(for hash: ChangeHash) -> Bool {
        guard retainsChanges, let index = indexByHash[hash] else { return false }
        return store.isResident(Int(index))
    }

    /// Lets go of the bytes of those applied changes that are large (`ChangeStore.ownSegmentSize` or more)
    /// once they are stored elsewhere: a server keeps a large received change on disk only, and reads
    /// it back the rare times a peer needs it (`hasBytes` then says false). Returns the bytes released.
    @discardableResult
    package mutating func releaseLargeChangeBytes(_ applied: [ChangeHash]) -> Int {
        var released = 0
        for hash in applied {
            guard let index = indexByHash[hash] else { continue }
            released += store.release(Int(index))
        }
        return released
    }

    /// The number of applied changes.
    package var count: Int { hashes.count }
    /// The number of changes waiting for missing deps.
    package var queuedCount: Int { queued.count }
    /// The document's heads, sorted by bytes.
    package var heads: [ChangeHash] {
        // A loop, not a closure over `self`: that copied the whole graph (a retain and a release of
        // each of its arrays) on every call, and sync asks for the heads several times per message.
        var heads: [ChangeHash] = []
        heads.reserveCapacity(headSet.count)
        for index in headSet { heads.append(hashes[Int(index)]) }
        if heads.count > 1 { heads.sort() }
        return heads
    }
    /// Every distinct author of an applied change.
    package var actorCount: Int { actors.count }
    /// All applied change hashes in application (topological) order.
    package var allHashes: [ChangeHash] { hashes }

    package func contains(_ hash: ChangeHash) -> Bool { indexByHash[hash] != nil }
    package func isQueued(_ hash: ChangeHash) -> Bool { queued[hash] != nil }

    /// The raw chunk of an applied change (nil when unknown or when bytes are not retained).
    package func chunk(for hash: ChangeHash) -> ChangeChunk? {
        guard retainsChanges, let index = indexByHash[hash] else { return nil }
        return chunk(at: Int(index))
    }

    func chunk(at index: Int) -> ChangeChunk? {
        guard let slice = store.bytes(at: index) else { return nil }
        let bytes = Array(slice)
        // Stored chunks were verified when added; only the body offset is needed again.
        var reader = ByteReader(bytes, range: 9..<bytes.count)
        _ = try? reader.readULEB()
        return ChangeChunk(verifiedBytes: bytes, hash: hashes[index], bodyStart: reader.offset)
    }

    /// Metadata of an applied change.
    package func metadata(for hash: ChangeHash) -> ChangeMetadata? {
        guard let found = indexByHash[hash] else { return nil }
        let index = Int(found)
        return ChangeMetadata(
            hash: hash,
            deps: deps(at: index).map { hashes[Int($0)] }.sorted(),
            actor: actors[Int(nodeActor[index])],
            seq: UInt64(nodeSeq[index]),
            startOp: UInt64(nodeStartOp[index]),
            maxOp: UInt64(nodeMaxOp[index]),
            time: nodeTime[index],
            // A change chunk cannot tell "" from no message (only a document can).
            message: nodeMessage[index] < 0 || messages[Int(nodeMessage[index])].isEmpty ? nil : messages[Int(nodeMessage[index])]
        )
    }

    private mutating func appendMessage(_ message: String?) {
        if let message {
            if let last = nodeMessage.last, last >= 0, messages[Int(last)] == message {
                nodeMessage.append(last)
            } else if let known = messageIDs[message] {
                nodeMessage.append(known)
            } else {
                let id = Int32(messages.count)
                messages.append(message)
                messageIDs[message] = id
                nodeMessage.append(id)
            }
        } else {
            nodeMessage.append(-1)
        }
    }

    /// The deps of an applied change.
    package func deps(of hash: ChangeHash) -> [ChangeHash]? {
        guard let index = indexByHash[hash] else { return nil }
        return deps(at: Int(index)).map { hashes[Int($0)] }
    }

    func deps(at index: Int) -> ArraySlice<Int32> { depsFlat[Int(depsStart[index])..<Int(depsStart[index + 1])] }
    func hash(at index: Int) -> ChangeHash { hashes[index] }
    func index(of hash: ChangeHash) -> Int? { indexByHash[hash].map(Int.init) }
}

extension ChangeGraph {
    /// The outcome of adding changes.
    package struct AddResult: Sendable, Equatable {
        /// Hashes applied by this call (including queued changes it unblocked), in order.
        package var applied: [ChangeHash] = []
        /// Changes that were already known (applied or queued).
        package var duplicates = 0
        /// Changes newly queued because deps are missing.
        package var queued = 0
    }

    /// Adds one change chunk (see `add(_:)` for a batch).
    @discardableResult
    package mutating func add(_ chunk: ChangeChunk) throws(AutomergeError) -> AddResult {
        try add([chunk])
    }

    /// Adds a batch of change chunks atomically: every chunk is parsed and checked against the
    /// graph (and the batch) for a conflicting (actor, seq) before anything is applied.
    @discardableResult
    package mutating func add(_ chunks: [ChangeChunk], validation: ChangeValidation = .full) throws(AutomergeError) -> AddResult {
        var batch: [QueuedChange] = []
        batch.reserveCapacity(chunks.count)
        for chunk in chunks { batch.append(try QueuedChange(chunk, validation: validation)) }
        return try add(validated: batch)
    }

    /// Adds changes rebuilt from a document (metadata already known).
    @discardableResult
    package mutating func add(rebuilt: [RebuiltChange]) throws(AutomergeError) -> AddResult {
        try add(validated: rebuilt.map { QueuedChange(chunk: $0.chunk, metadata: $0.metadata) })
    }

    mutating func add(validated batch: [QueuedChange]) throws(AutomergeError) -> AddResult {
        var seenByActor: [ActorId: [UInt64: ChangeHash]] = [:]
        for change in batch {
            let metadata = change.metadata
            if let existing = existingHash(actor: metadata.actor, seq: metadata.seq), existing != metadata.hash {
                throw .duplicateSeqNumber(seq: metadata.seq, actor: metadata.actor.hex)
            }
            if let other = seenByActor[metadata.actor]?[metadata.seq], other != metadata.hash {
                throw .duplicateSeqNumber(seq: metadata.seq, actor: metadata.actor.hex)
            }
            seenByActor[metadata.actor, default: [:]][metadata.seq] = metadata.hash
        }
        // The reference's batch order (Rust `apply_changes_batch`): first every change whose
        // deps are already applied, in batch order; then, repeatedly, the first ready change in
        // queue order, taken out with a swap-remove. The graph's application order is the row
        // order of a saved document, so following it exactly keeps saves byte-identical.
        var result = AddResult()
        var ready = ReadyQueue()
        for change in batch {
            let hash = change.metadata.hash
            if indexByHash[hash] != nil || queued[hash] != nil {
                result.duplicates += 1
                continue
            }
            let missing = change.metadata.deps.filter { indexByHash[$0] == nil }
            if missing.isEmpty {
                applyAndRelease(change, ready: &ready, result: &result)
            } else {
                queued[hash] = change
                queuePosition[hash] = queueOrder.count
                queueOrder.append(hash)
                for dep in missing { waiting[dep, default: []].append(hash) }
                result.queued += 1
            }
        }
        while let position = ready.popFirst(hashAt: { [queueOrder] in $0 < queueOrder.count ? queueOrder[$0] : nil }) {
            let hash = queueOrder[position]
            ready.remove(hash)
            removeFromQueue(at: position, ready: &ready)
            guard let candidate = queued.removeValue(forKey: hash) else { continue }
            // A queued change may conflict with one applied since it was queued: drop it.
            if let existing = existingHash(actor: candidate.metadata.actor, seq: candidate.metadata.seq), existing != hash {
                continue
            }
            applyAndRelease(candidate, ready: &ready, result: &result)
        }
        return result
    }

    private func existingHash(actor: ActorId, seq: UInt64) -> ChangeHash? {
        guard let actorId = actorIndex[actor], let index = node(actor: actorId, seq: seq) else { return nil }
        return hashes[Int(index)]
    }

    private func node(actor: Int32, seq: UInt64) -> Int32? {
        let position = Int(actor)
        if position < seqNodes.count, seq >= 1, seq <= UInt64(seqNodes[position].count) { return seqNodes[position][Int(seq - 1)] }
        return sparseSeqs.isEmpty ? nil : sparseSeqs[UInt64(UInt32(bitPattern: actor)) << 32 | seq]
    }

    private mutating func recordSeq(actor: Int32, seq: UInt64, node: Int32) {
        let position = Int(actor)
        while seqNodes.count <= position { seqNodes.append([]) }
        if seq == UInt64(seqNodes[position].count) + 1 {
            seqNodes[position].append(node)
        } else {
            sparseSeqs[UInt64(UInt32(bitPattern: actor)) << 32 | seq] = node
        }
    }

    /// Applies a change and marks the queued changes it completes as ready.
    private mutating func applyAndRelease(_ change: QueuedChange, ready: inout ReadyQueue, result: inout AddResult) {
        apply(change)
        result.applied.append(change.metadata.hash)
        guard let waiters = waiting.removeValue(forKey: change.metadata.hash) else { return }
        for waiter in waiters {
            guard !ready.contains(waiter), let candidate = queued[waiter], let position = queuePosition[waiter],
                candidate.metadata.deps.allSatisfy({ indexByHash[$0] != nil })
            else { continue }
            ready.insert(waiter, at: position)
        }
    }

    /// `Vec::swap_remove`: the last queued change takes the removed one's place.
    private mutating func removeFromQueue(at position: Int, ready: inout ReadyQueue) {
        let removed = queueOrder[position]
        let last = queueOrder.removeLast()
        queuePosition[removed] = nil
        if position < queueOrder.count {
            queueOrder[position] = last
            queuePosition[last] = position
            if ready.contains(last) { ready.insert(last, at: position) }
        }
    }

    mutating func internActor(_ id: ActorId) -> Int32 {
        if let existing = actorIndex[id] { return existing }
        let actor = Int32(actors.count)
        actors.append(id)
        actorIndex[id] = actor
        return actor
    }

    /// Appends a change rebuilt from a document into a graph whose nodes are that document's
    /// rows so far (dep rows are node indexes). The hash list and the hash and seq indexes are
    /// filled afterwards by `adoptRebuiltHashes`, once the document's op table is freed, so
    /// the two never take memory at the same time.
    mutating func appendRebuilt(_ row: DocumentChunk.RebuiltRow, actor: Int32) {
        let index = Int32(nodeActor.count)
        nodeActor.append(actor)
        nodeSeq.append(UInt32(truncatingIfNeeded: row.seq))
        nodeStartOp.append(UInt32(truncatingIfNeeded: row.startOp))
        nodeMaxOp.append(UInt32(truncatingIfNeeded: row.maxOp))
        for dep in row.depRows {
            depsFlat.append(Int32(dep))
            headSet.remove(Int32(dep))
        }
        depsStart.append(Int32(depsFlat.count))
        nodeTime.append(row.time)
        appendMessage(row.storedMessage)
        if retainsChanges {
            if retainsDocumentChanges || row.hasExtraBytes { store.append(copying: row.chunk) } else { store.appendAbsent() }
        }
        headSet.insert(index)
    }

    /// Completes a graph filled by `appendRebuilt`: takes the rebuilt hashes (node order) and
    /// builds the lookup indexes.
    mutating func adoptRebuiltHashes(_ rebuilt: [ChangeHash]) throws(AutomergeError) {
        hashes = rebuilt
        hashIndex.reserveCapacity(hashes.count, hashes)
        for index in hashes.indices {
            guard hashIndex.insert(Int32(index), in: hashes) else {
                throw .invalidDocument("change \(index) appears twice")
            }
            recordSeq(actor: nodeActor[index], seq: UInt64(nodeSeq[index]), node: Int32(index))
        }
    }

    /// Makes room for `additional` more changes in every per-change array and the hash index, so
    /// that appending a few changes to a large graph does not double them (compaction loads a
    /// stored document, then the changes after it).
    mutating func reserveChanges(_ additional: Int) {
        reserveNodes(additional)
        hashes.reserveCapacity(count + additional)
        hashIndex.reserveCapacity(count + additional, hashes)
    }

    /// Prepares the node arrays for `additional` more changes.
    mutating func reserveNodes(_ additional: Int) {
        nodeActor.reserveCapacity(count + additional)
        nodeSeq.reserveCapacity(count + additional)
        nodeStartOp.reserveCapacity(count + additional)
        nodeMaxOp.reserveCapacity(count + additional)
        nodeTime.reserveCapacity(count + additional)
        nodeMessage.reserveCapacity(count + additional)
        depsStart.reserveCapacity(count + additional + 1)
        // Most changes have one dep (the previous change): grown by doubling past a power of two,
        // these two would briefly hold twice their size.
        depsFlat.reserveCapacity(depsFlat.count + additional)
        if retainsChanges { store.reserveCapacity(count + additional) }
    }

    private mutating func apply(_ change: QueuedChange) {
        let metadata = change.metadata
        let index = Int32(hashes.count)
        let actor = internActor(metadata.actor)
        hashes.append(metadata.hash)
        hashIndex.insert(index, in: hashes)
        nodeActor.append(actor)
        nodeSeq.append(UInt32(truncatingIfNeeded: metadata.seq))
        nodeStartOp.append(UInt32(truncatingIfNeeded: metadata.startOp))
        nodeMaxOp.append(UInt32(truncatingIfNeeded: metadata.maxOp))
        for dep in metadata.deps {
            guard let depIndex = indexByHash[dep] else { continue }
            depsFlat.append(depIndex)
            headSet.remove(depIndex)
        }
        depsStart.append(Int32(depsFlat.count))
        recordSeq(actor: actor, seq: metadata.seq, node: index)
        nodeTime.append(metadata.time)
        appendMessage(metadata.message)
        if retainsChanges { store.append(change.chunk.bytes) }
        headSet.insert(index)
    }
}

extension ChangeGraph {
    /// What the graph holds in memory, by its own accounting (array and table capacities, not the
    /// process's RSS): the index over the changes, and the change bytes it keeps.
    package struct Footprint: Sendable, Equatable {
        /// Hashes, lookup tables, per-change metadata, deps, actors, messages and the orphan queue's tables.
        package var index: Int
        /// Change bytes held: resident change chunks and queued orphans.
        package var changeBytes: Int
        package var total: Int { index + changeBytes }
    }

    package var footprint: Footprint {
        func array<T>(_ values: [T]) -> Int { values.capacity * MemoryLayout<T>.stride }
        // A hashed table keeps capacity/0.75 buckets (a power of two), each with key, value and a bit.
        func table<K, V>(_ values: [K: V]) -> Int {
            let buckets = (values.capacity * 4 + 2) / 3
            return buckets * (MemoryLayout<K>.stride + MemoryLayout<V>.stride) + buckets / 8
        }
        func set<K>(_ values: Set<K>) -> Int {
            let buckets = (values.capacity * 4 + 2) / 3
            return buckets * MemoryLayout<K>.stride + buckets / 8
        }
        var index = array(hashes) + hashIndex.bytes + array(actors) + table(actorIndex)
        index += array(nodeActor) + array(nodeSeq) + array(nodeStartOp) + array(nodeMaxOp) + array(nodeTime)
        index += array(nodeMessage) + array(depsStart) + array(depsFlat) + set(headSet)
        index += array(seqNodes) + seqNodes.reduce(0) { $0 + array($1) } + table(sparseSeqs)
        index += array(messages) + table(messageIDs) + 2 * messages.reduce(0) { $0 + ($1.utf8.count > 15 ? $1.utf8.count + 32 : 0) }
        index += actors.reduce(0) { $0 + $1.bytes.count + 32 }
        index += table(queued) + table(waiting) + array(queueOrder) + table(queuePosition)
        index += waiting.values.reduce(0) { $0 + array($1) }
        index += store.tableBytes
        let queuedBytes = queued.values.reduce(0) { $0 + $1.chunk.bytes.count + $1.metadata.deps.count * 32 }
        return Footprint(index: index, changeBytes: store.segmentBytes + queuedBytes)
    }
}
