/// The change half of a document chunk, derived from a change graph: what `DocumentWriter`
/// needs besides the op rows.
package struct DocumentChangeTable: Sendable {
    /// Every author, sorted by bytes: the document's actor table. Op rows must index into it.
    package var actors: [ActorId]
    /// One row per applied change, in the graph's application order.
    package var changes: [DocumentChangeRow]
    /// The graph's heads with their rows.
    package var heads: [DocumentHead]

    /// The index of `actor` in `actors`, or nil when it authored no change.
    package func actorIndex(of actor: ActorId) -> Int? {
        var low = 0
        var high = actors.count
        while low < high {
            let middle = (low + high) / 2
            if actors[middle] < actor { low = middle + 1 } else { high = middle }
        }
        return low < actors.count && actors[low] == actor ? low : nil
    }
}

extension ChangeGraph {
    /// Builds the change rows of a document holding every applied change.
    ///
    /// Row order is the order in which the graph applied the changes. The reference does the
    /// same: its `save()` and `getAllChanges()` list changes in the order they entered the change
    /// graph (checked against every generated fixture: the rows of `NAME.automerge` are the
    /// changes of `NAME.changes`, in order), a document loaded first keeps its row order, and
    /// batches with missing deps are applied in the reference's batch order (`add`).
    /// Dep indexes are written in the order of the deps' sorted hashes. Extra bytes are read
    /// from the stored chunks (empty when the graph does not retain change bytes).
    package func documentChangeTable() throws(AutomergeError) -> DocumentChangeTable {
        var rows: [DocumentChangeRow] = []
        rows.reserveCapacity(count)
        let actors = try forEachDocumentChangeRow { rows.append($0) }
        return DocumentChangeTable(actors: actors, changes: rows, heads: documentHeads)
    }

    /// The graph's heads with their rows, sorted by hash.
    var documentHeads: [DocumentHead] { headSet.map { DocumentHead(hash: hashes[Int($0)], row: Int($0)) }.sorted { $0.hash < $1.hash } }

    /// The document's actor table (every author, sorted by bytes).
    var documentActors: [ActorId] { actors.sorted() }

    /// `documentChangeTable()`'s rows one at a time, none kept (a quarter of a million rows with
    /// their dep lists are tens of megabytes). Returns the actor table the rows index into.
    @discardableResult
    func forEachDocumentChangeRow(_ body: (DocumentChangeRow) throws(AutomergeError) -> Void) throws(AutomergeError) -> [ActorId] {
        let order = actors.indices.sorted { actors[$0] < actors[$1] }
        var rank = [Int](repeating: 0, count: actors.count)
        for (position, index) in order.enumerated() { rank[index] = position }
        var sortedDeps: [Int32] = []
        for index in 0..<count {
            sortedDeps.removeAll(keepingCapacity: true)
            sortedDeps.append(contentsOf: deps(at: index))
            if sortedDeps.count > 1 { sortedDeps.sort { hashes[Int($0)] < hashes[Int($1)] } }
            let message = nodeMessage[index] < 0 ? nil : messages[Int(nodeMessage[index])]
            try body(
                DocumentChangeRow(
                    actor: rank[Int(nodeActor[index])],
                    seq: UInt64(nodeSeq[index]),
                    maxOp: UInt64(nodeMaxOp[index]),
                    time: nodeTime[index],
                    message: message,
                    dependencies: sortedDeps.map(Int.init),
                    extraBytes: retainsChanges ? try extraBytes(at: index) : []
                )
            )
        }
        return order.map { actors[$0] }
    }

    /// The changes waiting for missing deps, as raw type-1 chunks in the reference's queue
    /// order (arrival order, except that taking a change out moves the last one into its place).
    package var orphanChunks: [ChangeChunk] { queueOrder.compactMap { queued[$0]?.chunk } }

    /// What the reference's `save()` writes (docs/binary-format.md §5.6): one document chunk holding every
    /// applied change and the given op rows, followed by the raw chunk of every queued orphan
    /// change in queue order (`orphanChunks`).
    ///
    /// `ops` are the document's op rows in document order, with actor indexes into
    /// `table.actors` (see `DocumentOpRow`); `table` defaults to `documentChangeTable()`.
    package func save(
        ops: some Sequence<DocumentOpRow>,
        table given: DocumentChangeTable? = nil,
        compression: DocumentWriter.Compression = .reference
    ) throws(AutomergeError) -> [UInt8] {
        let table: DocumentChangeTable
        if let given { table = given } else { table = try documentChangeTable() }
        var bytes = try DocumentWriter.write(actors: table.actors, changes: table.changes, ops: ops, heads: table.heads, compression: compression)
        for orphan in orphanChunks { bytes.append(contentsOf: orphan.bytes) }
        return bytes
    }

    /// The bytes after a stored change's op columns, found by skipping its header and column
    /// data in place (no copy, no allocation unless there are extra bytes).
    /// A change kept without its bytes (inside a document chunk) has none: those with extra bytes keep theirs.
    func extraBytes(at index: Int) throws(AutomergeError) -> [UInt8] {
        guard store.isResident(index) else { return [] }
        let (segment, range) = store.location(of: index)
        var reader = ByteReader(segment, range: range)
        _ = try reader.readRange(9, "chunk header")
        _ = try reader.readULEB("chunk length")
        let depCount = try reader.readCount("deps", minimumItemSize: 32)
        _ = try reader.readRange(depCount * 32, "deps")
        _ = try reader.readLengthPrefixedRange("actor")
        _ = try reader.readULEB("seq")
        _ = try reader.readULEB("startOp")
        _ = try reader.readSLEB("time")
        _ = try reader.readLengthPrefixedRange("message")
        for _ in 0..<(try reader.readCount("other actors")) { _ = try reader.readLengthPrefixedRange("other actor") }
        var dataLength = 0
        for _ in 0..<(try reader.readCount("column count", minimumItemSize: 2)) {
            _ = try reader.readULEB("column spec")
            let length = try reader.readULEB("column length")
            guard length <= UInt64(reader.remaining) else { throw .lengthTooLarge(what: "column", length: length) }
            dataLength += Int(length)
        }
        _ = try reader.readRange(dataLength, "column data")
        return reader.isAtEnd ? [] : Array(segment[reader.offset..<reader.end])
    }
}
