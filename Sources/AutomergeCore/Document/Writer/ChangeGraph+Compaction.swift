/// What a compaction writes for a document's stored chunks.
package struct CompactedDocument: Sendable {
    /// The snapshot: one document chunk holding every change, then any orphans' change chunks.
    package var bytes: [UInt8]
    package var heads: [ChangeHash]
    /// The leading stored document chunk already held every change and is the snapshot as it was.
    package var reusedStoredDocument: Bool
}

extension ChangeGraph {
    /// The snapshot of a document's stored chunks (their concatenation, the stored snapshot usually
    /// first): the reference's `save()` of every change in them.
    ///
    /// Memory follows the document's index and stored size, not its history or op count: the
    /// changes inside a leading document chunk are verified in one streaming pass and keep no bytes
    /// (only the changes after it do), and the new op columns are written by merging the later
    /// changes' ops into that chunk's op rows as they stream (no op set). When the leading document chunk already holds every change (the rest only
    /// repeats some), it is the snapshot as it is: verified, not re-encoded, as a received whole
    /// document is stored.
    ///
    /// A written snapshot is loaded back and checked (same heads, changes and orphans) before it is
    /// returned. Returns nil when the chunks hold no change; throws when they do not all load.
    package static func compacted(_ bytes: [UInt8]) throws(AutomergeError) -> CompactedDocument? {
        var graph = ChangeGraph(retainingDocumentChanges: false)
        var reader = ChunkReader(bytes)
        var leading: DocumentChunkBytes?
        var leadingEnd = 0
        if case .document(let chunk)? = try reader.next() {
            leading = chunk
            leadingEnd = reader.position
        }
        if leadingEnd > 0 {
            try graph.load(leadingEnd == bytes.count ? bytes : Array(bytes[0..<leadingEnd]), validation: .metadata)
        }
        let documentChanges = graph.count
        if leadingEnd < bytes.count {
            if leadingEnd > 0 {
                // The document's arrays are exactly full: appending would double every one of them.
                var later = 0
                while case .change? = try reader.next() { later += 1 }
                graph.reserveChanges(later)
            }
            // The input as it is, not a copy of what follows the document: the graph skips a
            // document chunk whose heads it already has (one inflation of its columns, let go at once).
            try graph.load(bytes, validation: .metadata)
        }
        guard graph.count > 0 || graph.queuedCount > 0 else { return nil }
        let heads = graph.heads
        if leadingEnd > 0 && graph.count == documentChanges && graph.queuedCount == 0 {
            return CompactedDocument(bytes: Array(bytes[0..<leadingEnd]), heads: heads, reusedStoredDocument: true)
        }
        let count = graph.count
        let queuedCount = graph.queuedCount
        let saved = try graph.saved(from: leading.map { chunk throws(AutomergeError) in try DocumentChunk(chunk) }, documentChanges: documentChanges)
        // The check below holds a second index: the first goes now.
        graph = ChangeGraph()
        var check = ChangeGraph(retainingChanges: false)
        try check.load(saved)
        guard check.heads == heads, check.count == count, check.queuedCount == queuedCount else {
            throw .invalidDocument("the compacted document does not load back to the same changes")
        }
        return CompactedDocument(bytes: saved, heads: heads, reusedStoredDocument: false)
    }

    /// The snapshot of the graph's changes, the first `documentChanges` of which `document` holds.
    ///
    /// With a stored document, its op rows stream from its columns into the writer with the later
    /// changes' ops merged in at their places (`LaterOps`): no op set of the whole document is
    /// built, so memory follows the index, the stored columns and the output, not the op count.
    /// Should the merge refuse the input, the op-set path decides (and gives its error).
    private func saved(from document: DocumentChunk?, documentChanges: Int) throws(AutomergeError) -> [UInt8] {
        if let document, let merged = try? merged(document, documentChanges: documentChanges) { return merged }
        return try savedThroughOpSet(from: document, documentChanges: documentChanges)
    }

    /// `saved(from:documentChanges:)` by streaming `document`'s op rows with the later ops merged in.
    func merged(_ document: DocumentChunk, documentChanges: Int) throws(AutomergeError) -> [UInt8] {
        let actors = documentActors
        var remap: [Int]?
        if document.actors != actors {
            let table = DocumentChangeTable(actors: actors, changes: [], heads: [])
            var mapping: [Int] = []
            for actor in document.actors {
                guard let index = table.actorIndex(of: actor) else { throw .invalidDocument("stored actor \(actor.hex) has no change") }
                mapping.append(index)
            }
            remap = mapping
        }
        let later = try LaterOps(graph: self, from: documentChanges, actors: actors)
        var writer = try DocumentWriter(actors: actors)
        try forEachDocumentChangeRow { (row: DocumentChangeRow) throws(AutomergeError) in try writer.append(row) }
        try later.merge(document, remapping: remap, into: &writer)
        var bytes = try writer.finish(heads: documentHeads, compression: .reference)
        for orphan in orphanChunks { bytes.append(contentsOf: orphan.bytes) }
        return bytes
    }

    /// `save(opSet:)` with the op set read from `document` (the graph's first `documentChanges`
    /// changes) and the graph's later changes applied to it in the graph's order.
    func savedThroughOpSet(from document: DocumentChunk?, documentChanges: Int) throws(AutomergeError) -> [UInt8] {
        var opSet = try document.map { document throws(AutomergeError) in try OpSet(document: document) } ?? OpSet()
        for index in documentChanges..<count {
            guard let chunk = chunk(at: index) else { throw .invalidDocument("change \(hashes[index]) has no stored bytes") }
            try opSet.apply(try Change(chunk: chunk))
        }
        return try save(opSet: opSet)
    }
}
