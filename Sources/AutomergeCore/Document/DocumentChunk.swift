/// A decoded document chunk prefix (docs/binary-format.md §5.1) with its columns inflated, ready to be
/// rebuilt into the original changes.
package struct DocumentChunk: Sendable {
    /// Every actor of the document, sorted by bytes.
    package let actors: [ActorId]
    /// The document's heads, sorted.
    package let heads: [ChangeHash]
    /// For each head, the row of that head in the change columns (absent in legacy files).
    package let headIndexes: [Int]?
    let changeColumns: [ColumnSpec: ColumnBytes]
    let opColumns: [ColumnSpec: ColumnBytes]

    /// One column's uncompressed bytes.
    struct ColumnBytes: Sendable {
        let bytes: [UInt8]
        let range: Range<Int>
        var reader: ByteReader { ByteReader(bytes, range: range) }
    }

    /// Just the heads of a document chunk: nothing else is decoded or inflated.
    package static func heads(of chunk: DocumentChunkBytes) throws(AutomergeError) -> [ChangeHash] {
        var reader = ByteReader(chunk.bytes, range: chunk.bodyRange)
        _ = try reader.readActorArray("actors")
        return try reader.readHashArray("heads")
    }

    package init(_ chunk: DocumentChunkBytes) throws(AutomergeError) {
        var inflation = InflationBudget(.storage)
        try self.init(chunk, inflation: &inflation)
    }

    /// Decodes the chunk, its columns inflating within `inflation` (shared with the rest of the input).
    package init(_ chunk: DocumentChunkBytes, inflation: inout InflationBudget) throws(AutomergeError) {
        var reader = ByteReader(chunk.bytes, range: chunk.bodyRange)
        actors = try reader.readActorArray("actors")
        heads = try reader.readHashArray("heads")
        let changeMeta = try ColumnMetadata.read(&reader, allowDeflate: true)
        let opMeta = try ColumnMetadata.read(&reader, allowDeflate: true)
        let changeRaw = try ColumnMetadata.locate(changeMeta, in: &reader)
        let opRaw = try ColumnMetadata.locate(opMeta, in: &reader)
        if reader.isAtEnd {
            headIndexes = nil
        } else {
            var indexes: [Int] = []
            for _ in heads {
                let index = try reader.readULEB("head index")
                guard index <= UInt64(Int32.max) else { throw .invalidDocument("head index \(index) out of range") }
                indexes.append(Int(index))
            }
            guard reader.isAtEnd else { throw .invalidDocument("leftover bytes after the head indexes") }
            headIndexes = indexes
        }
        changeColumns = try Self.inflate(changeRaw, in: chunk.bytes, budget: &inflation)
        opColumns = try Self.inflate(opRaw, in: chunk.bytes, budget: &inflation)
    }

    /// Inflates DEFLATE-flagged columns; keys are the normalized specs.
    private static func inflate(
        _ columns: [RawColumn],
        in bytes: [UInt8],
        budget: inout InflationBudget
    ) throws(AutomergeError) -> [ColumnSpec: ColumnBytes] {
        var result: [ColumnSpec: ColumnBytes] = [:]
        for column in columns {
            if column.spec.isDeflated {
                let inflated = try Deflate.inflate(bytes[column.range], budget: &budget)
                result[column.spec.normalized] = ColumnBytes(bytes: inflated, range: 0..<inflated.count)
            } else {
                result[column.spec] = ColumnBytes(bytes: bytes, range: column.range)
            }
        }
        if result[.value] != nil && result[.valueMetadata] == nil { throw .invalidColumns("value column without metadata") }
        if result[.changeExtraValue] != nil && result[.changeExtraMetadata] == nil {
            throw .invalidColumns("extra column without metadata")
        }
        return result
    }

    func changeReader(_ spec: ColumnSpec) -> ByteReader { changeColumns[spec]?.reader ?? ByteReader([]) }
    func opReader(_ spec: ColumnSpec) -> ByteReader { opColumns[spec]?.reader ?? ByteReader([]) }
}

/// A change rebuilt from a document, with the metadata the change graph needs.
package struct RebuiltChange: Sendable {
    package let chunk: ChangeChunk
    package let metadata: ChangeMetadata
}
