/// A document chunk's rows exactly as stored: change rows and op rows in stored order, with
/// successor lists, messages, extra bytes and values kept verbatim.
///
/// Writing them back with `DocumentWriter` reproduces the reference's chunk byte for byte
/// (uncompressed), which is what proves the writer canonical. It is also the way to re-save a
/// stored document without an op set, e.g. to change its compression.
package struct StoredDocument: Sendable {
    /// The actor table, sorted by bytes.
    package var actors: [ActorId]
    /// The heads as stored (sorted).
    package var heads: [ChangeHash]
    /// The row of each head, in the order of `heads`; nil for legacy files without them.
    package var headRows: [Int]?
    package var changes: [DocumentChangeRow]
    package var ops: [DocumentOpRow]

    /// The heads with their rows, as `DocumentWriter.finish` takes them (nil for legacy files).
    package var documentHeads: [DocumentHead]? {
        headRows.map { rows in zip(heads, rows).map { DocumentHead(hash: $0, row: $1) } }
    }

    package init(actors: [ActorId], heads: [ChangeHash], headRows: [Int]?, changes: [DocumentChangeRow], ops: [DocumentOpRow]) {
        self.actors = actors
        self.heads = heads
        self.headRows = headRows
        self.changes = changes
        self.ops = ops
    }

    /// Reads the first chunk of `bytes`, which must be a document chunk.
    package init(bytes: [UInt8], limits: DocumentLimits = .default) throws(AutomergeError) {
        var reader = ChunkReader(bytes)
        guard case .document(let chunk)? = try reader.next() else {
            throw .invalidDocument("the first chunk is not a document chunk")
        }
        try self.init(DocumentChunk(chunk), limits: limits)
    }

    /// Decodes every row of a parsed document chunk (columns already inflated).
    package init(_ document: DocumentChunk, limits: DocumentLimits = .default) throws(AutomergeError) {
        actors = document.actors
        heads = document.heads
        // With no heads there are no head indexes to tell a legacy file from a current one.
        headRows = document.heads.isEmpty ? [] : document.headIndexes
        changes = try Self.readChanges(document, limits: limits)
        ops = try Self.readOps(document, limits: limits)
        if let headRows {
            for row in headRows where row >= changes.count {
                throw .invalidDocument("head index \(row) beyond the \(changes.count) changes")
            }
        }
    }

    /// Writes the rows back as a document chunk.
    package func write(compression: DocumentWriter.Compression = .reference) throws(AutomergeError) -> [UInt8] {
        guard let documentHeads else { throw .invalidDocument("legacy document without head indexes: the head rows are unknown") }
        return try DocumentWriter.write(actors: actors, changes: changes, ops: ops, heads: documentHeads, compression: compression)
    }

    private static func readChanges(_ document: DocumentChunk, limits: DocumentLimits) throws(AutomergeError) -> [DocumentChangeRow] {
        var actorColumn = RLEDecoder<UInt64>(document.changeReader(.changeActor))
        var seqColumn = DeltaDecoder(document.changeReader(.changeSeq))
        var maxOpColumn = DeltaDecoder(document.changeReader(.changeMaxOp))
        var timeColumn = DeltaDecoder(document.changeReader(.changeTime))
        var messageColumn = RLEDecoder<String>(document.changeReader(.changeMessage))
        var depsGroup = RLEDecoder<UInt64>(document.changeReader(.changeDepsGroup))
        var depsIndex = DeltaDecoder(document.changeReader(.changeDepsIndex))
        let extraRaw = document.changeReader(.changeExtraValue)
        var extraColumn = ValueDecoder(metadata: document.changeReader(.changeExtraMetadata), raw: extraRaw)

        var rows: [DocumentChangeRow] = []
        while !actorColumn.isAtEnd {
            let row = rows.count
            guard row < limits.maximumChanges else { throw .invalidDocument("more than \(limits.maximumChanges) changes") }
            let actor = try actorColumn.nextNonNull("change actor")
            guard actor < UInt64(document.actors.count) else { throw .invalidDocument("change \(row): invalid actor index \(actor)") }
            guard let seq = try seqColumn.nextCounter("seq"), let maxOp = try maxOpColumn.nextCounter("maxOp") else {
                throw .invalidDocument("change \(row): missing seq or maxOp")
            }
            let time = try timeColumn.next() ?? 0
            let message = try messageColumn.next()
            let depCount = try depsGroup.next() ?? 0
            guard depCount <= UInt64(row) else { throw .invalidDocument("change \(row) has more deps than earlier changes") }
            var dependencies: [Int] = []
            dependencies.reserveCapacity(Int(depCount))
            for _ in 0..<depCount {
                guard let dep = try depsIndex.next() else { throw .invalidDocument("change \(row): null dep index") }
                guard dep >= 0, dep < Int64(row) else { throw .invalidDocument("change \(row) depends on a later or unknown row \(dep)") }
                dependencies.append(Int(dep))
            }
            let (_, extraRange) = try extraColumn.nextRaw()
            rows.append(
                DocumentChangeRow(
                    actor: Int(actor),
                    seq: seq,
                    maxOp: maxOp,
                    time: time,
                    message: message,
                    dependencies: dependencies,
                    extraBytes: Array(extraRaw.bytes[extraRange])
                )
            )
        }
        guard
            seqColumn.isAtEnd && maxOpColumn.isAtEnd && timeColumn.isAtEnd && messageColumn.isAtEnd && depsGroup.isAtEnd
                && depsIndex.isAtEnd && extraColumn.isAtEnd
        else { throw .invalidDocument("change columns have different lengths") }
        return rows
    }

    private static func readOps(_ document: DocumentChunk, limits: DocumentLimits) throws(AutomergeError) -> [DocumentOpRow] {
        var ops: [DocumentOpRow] = []
        try document.forEachStoredOp(limits: limits) { (row: DocumentOpRow) throws(AutomergeError) in ops.append(row) }
        return ops
    }
}
