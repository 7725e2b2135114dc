extension ChangeGraph {
    /// The op set of every applied change, built by applying them in the graph's order (a
    /// causal order). Needs the change bytes (`retainsChanges`).
    package func makeOpSet() throws(AutomergeError) -> OpSet {
        guard retainsChanges else { throw .invalidDocument("this change graph keeps no change bytes to build a document from") }
        var opSet = OpSet()
        for hash in allHashes {
            guard let chunk = chunk(for: hash) else { throw .invalidDocument("change \(hash) has no stored bytes") }
            try opSet.apply(try Change(chunk: chunk))
        }
        return opSet
    }

    /// The reference's `save()` (docs/binary-format.md §5.6): one canonical document chunk holding every applied
    /// change, its ops taken from `opSet` in document order, followed by the raw chunk of every
    /// queued orphan change. `opSet` must hold exactly the graph's applied changes.
    ///
    /// Rows stream from the graph and the op set into the writer: no array of rows is built.
    package func save(opSet: OpSet, compression: DocumentWriter.Compression = .reference) throws(AutomergeError) -> [UInt8] {
        let table = DocumentChangeTable(actors: documentActors, changes: [], heads: documentHeads)
        var writer = try DocumentWriter(actors: table.actors)
        try forEachDocumentChangeRow { (row: DocumentChangeRow) throws(AutomergeError) in try writer.append(row) }
        // The op set numbers actors by bytes too, but it may know actors the table lacks only if
        // it holds ops of changes the graph does not: map by identity and refuse those.
        let opSetActors = opSet.documentActors
        var remap: [Int]?
        if opSetActors != table.actors {
            var mapping: [Int] = []
            for actor in opSetActors {
                guard let index = table.actorIndex(of: actor) else {
                    throw .invalidDocument("the op set holds ops of actor \(actor.hex), which has no change in the graph")
                }
                mapping.append(index)
            }
            remap = mapping
        }
        try opSet.forEachDocumentOp { (row: DocumentOpRow) throws(AutomergeError) in
            guard let remap else { return try writer.append(row) }
            try writer.append(row.remappingActors(remap))
        }
        var bytes = try writer.finish(heads: table.heads, compression: compression)
        for orphan in orphanChunks { bytes.append(contentsOf: orphan.bytes) }
        return bytes
    }

    /// `save(opSet:)` with the op set built from the graph's own changes.
    package func saveDocument(compression: DocumentWriter.Compression = .reference) throws(AutomergeError) -> [UInt8] {
        try save(opSet: makeOpSet(), compression: compression)
    }
}

extension DocumentOpRow {
    /// The same row with every actor index `i` replaced by `mapping[i]`.
    func remappingActors(_ mapping: [Int]) -> DocumentOpRow {
        func map(_ id: OpId) -> OpId { OpId(counter: id.counter, actor: mapping[id.actor]) }
        var row = self
        if case .op(let id) = object { row.object = .op(map(id)) }
        if case .element(let id) = key { row.key = .element(map(id)) }
        row.id = map(id)
        row.successors = successors.map(map)
        return row
    }
}

extension AutomergeDocument {
    /// The whole document as the reference's `save()` writes it.
    package func save(compression: DocumentWriter.Compression = .reference) throws(AutomergeError) -> [UInt8] {
        try graph.save(opSet: opSet, compression: compression)
    }
}
