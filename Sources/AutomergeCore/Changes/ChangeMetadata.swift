/// What a relay needs from a change, read without decoding its ops (docs/binary-format.md §3.4).
package struct ChangeMetadata: Sendable, Equatable {
    package var hash: ChangeHash
    package var deps: [ChangeHash]
    package var actor: ActorId
    package var seq: UInt64
    package var startOp: UInt64
    package var maxOp: UInt64
    /// The author's timestamp as written (see `Change.time`).
    package var time: Int64
    package var message: String?

    /// Reads the header, skips the op columns, and counts ops from the action column's run
    /// headers only.
    package init(chunk: ChangeChunk) throws(AutomergeError) {
        var reader = ByteReader(chunk.bytes, range: chunk.bodyStart..<chunk.bytes.count)
        let header = try ChangeHeader.read(&reader)
        let columns = try ColumnMetadata.locate(header.columns, in: &reader)
        var numOps: UInt64 = 0
        if let action = columns.first(where: { $0.spec == .action }) {
            numOps = try Self.countRows(ByteReader(chunk.bytes, range: action.range))
        }
        let maxOp = header.startOp &+ numOps &- 1
        guard numOps == 0 || maxOp <= UInt64(UInt32.max) else { throw .counterTooLarge(maxOp) }
        hash = chunk.hash
        deps = header.deps
        actor = header.actor
        seq = header.seq
        startOp = header.startOp
        self.maxOp = maxOp
        time = header.time
        message = header.message
    }

    /// Sums the run lengths of a uLEB-RLE column, skipping values without decoding them.
    static func countRows(_ column: ByteReader) throws(AutomergeError) -> UInt64 {
        var reader = column
        var rows: UInt64 = 0
        while !reader.isAtEnd {
            let count = try reader.readSLEB("run length")
            if count > 0 {
                rows += UInt64(count)
                _ = try reader.readULEB("action")
            } else if count < 0 {
                guard count != Int64.min, -count <= Int64(reader.remaining) else { throw .invalidColumns("literal run too long") }
                for _ in 0..<(-count) { _ = try reader.readULEB("action") }
                rows += UInt64(-count)
            } else {
                rows += try reader.readULEB("null run")
            }
            guard rows <= UInt64(UInt32.max) else { throw .invalidColumns("too many ops") }
        }
        return rows
    }
}
