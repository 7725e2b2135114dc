/// A fully decoded change (docs/binary-format.md §3): header fields and typed ops.
///
/// Decoding a change and encoding it again reproduces its bytes exactly (the canonical form of
/// docs/binary-format.md §4.3), so a change built here hashes as the reference would hash it.
package struct Change: Equatable, Sendable {
    /// Hashes of the changes this one depends on, sorted by bytes.
    package var deps: [ChangeHash]
    package var actor: ActorId
    package var seq: UInt64
    package var startOp: UInt64
    /// The author's timestamp as written (JS Automerge writes seconds since the epoch, the
    /// Rust API milliseconds); 0 when unknown.
    package var time: Int64
    /// nil for no message; the format cannot tell an empty message from none.
    package var message: String?
    /// Other actors the ops reference, sorted by bytes; op actor index i ≥ 1 is `otherActors[i-1]`.
    package var otherActors: [ActorId]
    package var ops: [Op]
    /// Bytes after the op columns; always empty from today's writers, kept verbatim.
    package var extraBytes: [UInt8]
    /// Op columns this implementation does not know, kept verbatim and written back in place.
    package var unknownColumns: [UnknownColumn]

    package struct UnknownColumn: Equatable, Sendable {
        package var spec: ColumnSpec
        package var data: [UInt8]
    }

    package init(
        deps: [ChangeHash] = [],
        actor: ActorId,
        seq: UInt64,
        startOp: UInt64,
        time: Int64 = 0,
        message: String? = nil,
        otherActors: [ActorId] = [],
        ops: [Op] = [],
        extraBytes: [UInt8] = [],
        unknownColumns: [UnknownColumn] = []
    ) {
        self.deps = deps
        self.actor = actor
        self.seq = seq
        self.startOp = startOp
        self.time = time
        self.message = message
        self.otherActors = otherActors
        self.ops = ops
        self.extraBytes = extraBytes
        self.unknownColumns = unknownColumns
    }

    /// maxOp = startOp + numOps − 1 (startOp − 1 for an empty change).
    package var maxOp: UInt64 { startOp + UInt64(ops.count) - 1 }

    /// The actor for a change-local actor index.
    package func actor(at index: Int) -> ActorId? {
        index == 0 ? actor : (index - 1 < otherActors.count ? otherActors[index - 1] : nil)
    }
}
