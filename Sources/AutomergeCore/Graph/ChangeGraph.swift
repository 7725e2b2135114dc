/// The change DAG of one document: every applied change's metadata and raw bytes, its heads,
/// and a queue of changes whose dependencies have not arrived yet.
///
/// Changes are applied only once their deps are present, so the order of application is a
/// topological order; a change's index in that order is used throughout as its identity.
public struct ChangeGraph: Sendable {
    private(set) var hashes: [ChangeHash] = []
    private(set) var indexByHash: [ChangeHash: Int32] = [:]
    private(set) var actors: [ActorId] = []
    private var actorIndex: [ActorId: Int32] = [:]
    private(set) var nodeActor: [Int32] = []
    private(set) var nodeSeq: [UInt32] = []
    private var nodeStartOp: [UInt32] = []
    private(set) var nodeMaxOp: [UInt32] = []
    private var depsStart: [Int32] = [0]
    private var depsFlat: [Int32] = []
    private var bySeq: [UInt64: Int32] = [:]
    private var store = ChangeStore()
    private var nodeTime: [Int64] = []
    private var nodeMessage: [Int32] = []
    private var messages: [String] = []
    /// Whether the raw bytes of applied changes are kept (a relay needs them; `inspect` does not).
    public let retainsChanges: Bool
    private(set) var headSet: Set<Int32> = []

    /// Changes waiting for deps, and for each missing hash the queued changes that wait on it.
    private(set) var queued: [ChangeHash: QueuedChange] = [:]
    private(set) var waiting: [ChangeHash: [ChangeHash]] = [:]

    struct QueuedChange: Sendable {
        var chunk: ChangeChunk
        var metadata: ChangeMetadata
    }

    public init(retainingChanges: Bool = true) { retainsChanges = retainingChanges }

    /// The number of applied changes.
    public var count: Int { hashes.count }
    /// The number of changes waiting for missing deps.
    public var queuedCount: Int { queued.count }
    /// The document's heads, sorted by bytes.
    public var heads: [ChangeHash] { headSet.map { hashes[Int($0)] }.sorted() }
    /// Every distinct author of an applied change.
    public var actorCount: Int { actors.count }
    /// All applied change hashes in application (topological) order.
    public var allHashes: [ChangeHash] { hashes }

    public func contains(_ hash: ChangeHash) -> Bool { indexByHash[hash] != nil }
    public func isQueued(_ hash: ChangeHash) -> Bool { queued[hash] != nil }

    /// The raw chunk of an applied change (nil when unknown or when bytes are not retained).
    public func chunk(for hash: ChangeHash) -> ChangeChunk? {
        guard retainsChanges, let index = indexByHash[hash] else { return nil }
        return chunk(at: Int(index))
    }

    func chunk(at index: Int) -> ChangeChunk {
        let bytes = Array(store.bytes(at: index))
        // Stored chunks were verified when added; only the body offset is needed again.
        var reader = ByteReader(bytes, range: 9..<bytes.count)
        _ = try? reader.readULEB()
        return ChangeChunk(verifiedBytes: bytes, hash: hashes[index], bodyStart: reader.offset)
    }

    /// Metadata of an applied change.
    public func metadata(for hash: ChangeHash) -> ChangeMetadata? {
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
            message: nodeMessage[index] < 0 ? nil : messages[Int(nodeMessage[index])]
        )
    }

    private mutating func appendMessage(_ message: String?) {
        if let message {
            nodeMessage.append(Int32(messages.count))
            messages.append(message)
        } else {
            nodeMessage.append(-1)
        }
    }

    /// The deps of an applied change.
    public func deps(of hash: ChangeHash) -> [ChangeHash]? {
        guard let index = indexByHash[hash] else { return nil }
        return deps(at: Int(index)).map { hashes[Int($0)] }
    }

    func deps(at index: Int) -> ArraySlice<Int32> { depsFlat[Int(depsStart[index])..<Int(depsStart[index + 1])] }
    func hash(at index: Int) -> ChangeHash { hashes[index] }
    func index(of hash: ChangeHash) -> Int? { indexByHash[hash].map(Int.init) }
}

extension ChangeGraph {
    /// The outcome of adding changes.
    public struct AddResult: Sendable, Equatable {
        /// Hashes applied by this call (including queued changes it unblocked), in order.
        public var applied: [ChangeHash] = []
        /// Changes that were already known (applied or queued).
        public var duplicates = 0
        /// Changes newly queued because deps are missing.
        public var queued = 0
    }

    /// Adds one change chunk (see `add(_:)` for a batch).
    @discardableResult
    public mutating func add(_ chunk: ChangeChunk) throws(AutomergeError) -> AddResult {
        try add([chunk])
    }

    /// Adds a batch of change chunks atomically: every chunk is parsed and checked against the
    /// graph (and the batch) for a conflicting (actor, seq) before anything is applied.
    @discardableResult
    public mutating func add(_ chunks: [ChangeChunk], validation: ChangeValidation = .full) throws(AutomergeError) -> AddResult {
        var batch: [QueuedChange] = []
        batch.reserveCapacity(chunks.count)
        for chunk in chunks { batch.append(try QueuedChange(chunk, validation: validation)) }
        return try add(validated: batch)
    }

    /// Adds changes rebuilt from a document (metadata already known).
    @discardableResult
    public mutating func add(rebuilt: [RebuiltChange]) throws(AutomergeError) -> AddResult {
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
        var result = AddResult()
        for change in batch { insert(change, result: &result) }
        return result
    }

    private func existingHash(actor: ActorId, seq: UInt64) -> ChangeHash? {
        guard let actorId = actorIndex[actor], let index = bySeq[UInt64(UInt32(bitPattern: actorId)) << 32 | seq] else { return nil }
        return hashes[Int(index)]
    }

    private mutating func insert(_ change: QueuedChange, result: inout AddResult) {
        let hash = change.metadata.hash
        if indexByHash[hash] != nil || queued[hash] != nil {
            result.duplicates += 1
            return
        }
        let missing = change.metadata.deps.filter { indexByHash[$0] == nil }
        if !missing.isEmpty {
            queued[hash] = change
            for dep in missing { waiting[dep, default: []].append(hash) }
            result.queued += 1
            return
        }
        var ready = [change]
        while let next = ready.popLast() {
            apply(next)
            result.applied.append(next.metadata.hash)
            guard let waiters = waiting.removeValue(forKey: next.metadata.hash) else { continue }
            for waiter in waiters {
                guard let candidate = queued[waiter], candidate.metadata.deps.allSatisfy({ indexByHash[$0] != nil }) else { continue }
                queued[waiter] = nil
                // A queued change may conflict with one applied since it was queued: drop it.
                if let existing = existingHash(actor: candidate.metadata.actor, seq: candidate.metadata.seq),
                    existing != candidate.metadata.hash
                {
                    continue
                }
                ready.append(candidate)
            }
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
        appendMessage(row.message)
        if retainsChanges { store.append(row.chunk) }
        headSet.insert(index)
    }

    /// Completes a graph filled by `appendRebuilt`: takes the rebuilt hashes (node order) and
    /// builds the lookup indexes.
    mutating func adoptRebuiltHashes(_ rebuilt: [ChangeHash]) throws(AutomergeError) {
        hashes = rebuilt
        indexByHash.reserveCapacity(hashes.count)
        bySeq.reserveCapacity(hashes.count)
        for (index, hash) in hashes.enumerated() {
            guard indexByHash.updateValue(Int32(index), forKey: hash) == nil else {
                throw .invalidDocument("change \(index) appears twice")
            }
            bySeq[UInt64(UInt32(bitPattern: nodeActor[index])) << 32 | UInt64(nodeSeq[index])] = Int32(index)
        }
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
    }

    private mutating func apply(_ change: QueuedChange) {
        let metadata = change.metadata
        let index = Int32(hashes.count)
        let actor = internActor(metadata.actor)
        hashes.append(metadata.hash)
        indexByHash[metadata.hash] = index
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
        bySeq[UInt64(UInt32(bitPattern: actor)) << 32 | metadata.seq] = index
        nodeTime.append(metadata.time)
        appendMessage(metadata.message)
        if retainsChanges { store.append(change.chunk.bytes) }
        headSet.insert(index)
    }
}
