extension ChangeGraph {
    /// What `load` found.
    package struct LoadSummary: Sendable, Equatable {
        package var chunks = ChunkCounts()
        /// Changes in the input (document changes count once per rebuilt change).
        package var changesRead = 0
        package var result = AddResult()
        /// What rebuilding the document chunks held, by its own accounting.
        package var rebuild = DocumentChunk.RebuildStatistics()
    }

    /// Loads any concatenation of document and change chunks (docs/binary-format.md §5.6): a document chunk is
    /// rebuilt into changes unless all its heads are already known; changes with missing deps
    /// are queued.
    ///
    /// Atomic: everything is parsed, rebuilt and checked before the graph changes, so a bad
    /// chunk anywhere leaves the graph as it was.
    ///
    /// - Parameter inflation: what compressed changes and document columns may inflate to, per
    ///   stream and for the whole input (`.syncMessage` for what a peer sent).
    @discardableResult
    package mutating func load(
        _ bytes: [UInt8],
        validation: ChangeValidation = .full,
        limits: DocumentLimits = .default,
        inflation: InflationLimits = .storage
    ) throws(AutomergeError) -> LoadSummary {
        let wasEmpty = count == 0 && queued.isEmpty
        do throws(AutomergeError) {
            return try loadUnchecked(bytes, validation: validation, limits: limits, inflation: inflation, wasEmpty: wasEmpty)
        } catch {
            // Only the empty-graph fast path mutates before the end (node arrays first, hashes
            // last): a graph that was empty is simply emptied again.
            if wasEmpty { self = ChangeGraph(retainingChanges: retainsChanges, retainingDocumentChanges: retainsDocumentChanges) }
            throw error
        }
    }

    private mutating func loadUnchecked(
        _ bytes: [UInt8],
        validation: ChangeValidation,
        limits: DocumentLimits,
        inflation: InflationLimits,
        wasEmpty: Bool
    ) throws(AutomergeError) -> LoadSummary {
        var reader = ChunkReader(bytes, inflation: inflation)
        var summary = LoadSummary()
        var batch: [QueuedChange] = []
        var chunkIndex = 0
        while true {
            let offset = reader.position
            guard let chunk = try reader.next() else { break }
            defer { chunkIndex += 1 }
            do throws(AutomergeError) {
                switch chunk {
                case .change(let change):
                    batch.append(try QueuedChange(change, validation: validation))
                    summary.changesRead += 1
                case .document(let documentBytes):
                    let document = try DocumentChunk(documentBytes, inflation: &reader.inflation)
                    if !document.heads.isEmpty && document.heads.allSatisfy({ contains($0) }) { continue }
                    if wasEmpty && chunkIndex == 0 {
                        let applied = try loadDocumentIntoEmptyGraph(document, limits: limits, statistics: &summary.rebuild)
                        summary.changesRead += applied.count
                        // The graph's own hash list, shared rather than copied (8 MB for essay).
                        if summary.result.applied.isEmpty {
                            summary.result.applied = applied
                        } else {
                            summary.result.applied.append(contentsOf: applied)
                        }
                        continue
                    }
                    try document.rebuildChanges(limits: limits, statistics: &summary.rebuild) { (change: RebuiltChange) throws(AutomergeError) in
                        batch.append(QueuedChange(chunk: change.chunk, metadata: change.metadata))
                        summary.changesRead += 1
                    }
                }
            } catch {
                throw .inChunk(index: chunkIndex, offset: offset, error.underlying)
            }
        }
        summary.chunks = reader.counts
        let result = try add(validated: batch)
        if !result.applied.isEmpty { summary.result.applied.append(contentsOf: result.applied) }
        summary.result.duplicates += result.duplicates
        summary.result.queued += result.queued
        return summary
    }

    /// The fast path for the common case, a document loaded first: its rows become the graph's
    /// nodes in order (node index = row), with no intermediate copies.
    private mutating func loadDocumentIntoEmptyGraph(
        _ document: DocumentChunk,
        limits: DocumentLimits,
        statistics: inout DocumentChunk.RebuildStatistics
    ) throws(AutomergeError) -> [ChangeHash] {
        var actorMap = [Int32](repeating: -1, count: document.actors.count)
        let rebuilt = try document.rebuild(limits: limits, statistics: &statistics, prepare: { reserveNodes($0) }) {
            (row: DocumentChunk.RebuiltRow) throws(AutomergeError) in
            if actorMap[row.author] < 0 { actorMap[row.author] = internActor(document.actors[row.author]) }
            appendRebuilt(row, actor: actorMap[row.author])
        }
        try adoptRebuiltHashes(rebuilt)
        return rebuilt
    }
}

/// How thoroughly incoming change chunks are checked.
package enum ChangeValidation: Sendable {
    /// Decode every op (actions, values, columns), as the reference does on load: nothing a
    /// JavaScript peer would reject is ever stored or forwarded.
    case full
    /// Header and op count only (docs/binary-format.md §3.4), for trusted input such as our own storage.
    case metadata
}

extension ChangeGraph.QueuedChange {
    init(_ chunk: ChangeChunk, validation: ChangeValidation) throws(AutomergeError) {
        switch validation {
        case .full:
            let change = try Change(chunk: chunk)
            self.init(
                chunk: chunk,
                metadata: ChangeMetadata(
                    hash: chunk.hash,
                    deps: change.deps,
                    actor: change.actor,
                    seq: change.seq,
                    startOp: change.startOp,
                    maxOp: change.maxOp,
                    time: change.time,
                    message: change.message
                )
            )
        case .metadata:
            self.init(chunk: chunk, metadata: try ChangeMetadata(chunk: chunk))
        }
    }
}
