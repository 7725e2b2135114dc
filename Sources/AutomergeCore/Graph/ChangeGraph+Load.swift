extension ChangeGraph {
    /// What `load` found.
    public struct LoadSummary: Sendable, Equatable {
        public var chunks = ChunkCounts()
        /// Changes in the input (document changes count once per rebuilt change).
        public var changesRead = 0
        public var result = AddResult()
    }

    /// Loads any concatenation of document and change chunks (spec §5.6): a document chunk is
    /// rebuilt into changes unless all its heads are already known; changes with missing deps
    /// are queued. The whole input is parsed before anything is applied.
    @discardableResult
    public mutating func load(_ bytes: [UInt8], limits: DocumentLimits = .default) throws(AutomergeError) -> LoadSummary {
        var reader = ChunkReader(bytes)
        var summary = LoadSummary()
        var pending: [ChangeChunk] = []
        var chunkIndex = 0
        while true {
            let offset = reader.position
            guard let chunk = try reader.next() else { break }
            defer { chunkIndex += 1 }
            switch chunk {
            case .change(let change):
                pending.append(change)
                summary.changesRead += 1
            case .document(let documentBytes):
                do throws(AutomergeError) {
                    let document = try DocumentChunk(documentBytes)
                    if !document.heads.isEmpty && document.heads.allSatisfy({ contains($0) }) { continue }
                    // Apply what came before so the document's changes land in input order.
                    try flush(&pending, into: &summary)
                    if count == 0 && queued.isEmpty {
                        let applied = try loadDocumentIntoEmptyGraph(document, limits: limits)
                        summary.changesRead += applied.count
                        summary.result.applied.append(contentsOf: applied)
                        continue
                    }
                    var rebuilt: [RebuiltChange] = []
                    try document.rebuildChanges(limits: limits) { (change: RebuiltChange) throws(AutomergeError) in
                        rebuilt.append(change)
                    }
                    summary.changesRead += rebuilt.count
                    merge(try add(rebuilt: rebuilt), into: &summary.result)
                } catch {
                    throw .inChunk(index: chunkIndex, offset: offset, error.underlying)
                }
            }
        }
        try flush(&pending, into: &summary)
        summary.chunks = reader.counts
        return summary
    }

    /// The fast path for the common case, a document loaded first: its rows become the graph's
    /// nodes in order (node index = row), with no intermediate copies. On failure the graph is
    /// left empty.
    private mutating func loadDocumentIntoEmptyGraph(_ document: DocumentChunk, limits: DocumentLimits) throws(AutomergeError) -> [ChangeHash] {
        var actorMap = [Int32](repeating: -1, count: document.actors.count)
        let retains = retainsChanges
        do throws(AutomergeError) {
            try document.rebuild(limits: limits, prepare: { reserveCapacity($0) }) { (row: DocumentChunk.RebuiltRow) throws(AutomergeError) in
                if actorMap[row.author] < 0 { actorMap[row.author] = internActor(document.actors[row.author]) }
                try appendRebuilt(row, actor: actorMap[row.author])
            }
        } catch {
            self = ChangeGraph(retainingChanges: retains)
            throw error
        }
        return allHashes
    }

    private mutating func flush(_ pending: inout [ChangeChunk], into summary: inout LoadSummary) throws(AutomergeError) {
        guard !pending.isEmpty else { return }
        merge(try add(pending), into: &summary.result)
        pending.removeAll()
    }

    private func merge(_ result: AddResult, into total: inout AddResult) {
        total.applied.append(contentsOf: result.applied)
        total.duplicates += result.duplicates
        total.queued += result.queued
    }
}
