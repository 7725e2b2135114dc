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
    /// Memory follows the document's index and op set, not its history: the changes inside a
    /// leading document chunk are verified in one streaming pass and keep no bytes (only the changes
    /// after it do), and the op set starts from that chunk's op columns rather than from a replay
    /// of every change. When the leading document chunk already holds every change (the rest only
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
            try graph.load(Array(bytes[0..<leadingEnd]), validation: .metadata)
        }
        let documentChanges = graph.count
        if leadingEnd < bytes.count {
            // No leading document (only change chunks): the input as it is, not a copy of it.
            try graph.load(leadingEnd == 0 ? bytes : Array(bytes[leadingEnd...]), validation: .metadata)
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

    /// `save(opSet:)` with the op set read from `document` (the graph's first `documentChanges`
    /// changes) and the graph's later changes applied to it in the graph's order.
    private func saved(from document: DocumentChunk?, documentChanges: Int) throws(AutomergeError) -> [UInt8] {
        var opSet = try document.map { document throws(AutomergeError) in try OpSet(document: document) } ?? OpSet()
        for index in documentChanges..<count {
            guard let chunk = chunk(at: index) else { throw .invalidDocument("change \(hashes[index]) has no stored bytes") }
            try opSet.apply(try Change(chunk: chunk))
        }
        return try save(opSet: opSet)
    }
}
