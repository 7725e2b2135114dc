/// One row of a document chunk's change columns (docs/binary-format.md §5.2).
///
/// Actor indexes refer to the document's actor table, which is sorted by bytes. `startOp` is not
/// stored: readers recover it from the ops (docs/binary-format.md §5.5).
package struct DocumentChangeRow: Sendable, Equatable {
    /// The author: an index into the document's sorted actor table.
    package var actor: Int
    /// 1, 2, 3 … per actor; each actor's rows appear in seq order.
    package var seq: UInt64
    /// The counter of the change's last op (startOp − 1 for a change without ops). Never
    /// decreases from one change of an actor to the next.
    package var maxOp: UInt64
    /// The author's timestamp as written in the change.
    package var time: Int64
    /// nil when the change has no message. Kept apart from "" so stored rows round-trip exactly.
    package var message: String?
    /// Row indexes of the change's dependencies, all earlier rows, **in the order of the deps'
    /// sorted hashes** (not row order): that is how the reference writes them.
    package var dependencies: [Int]
    /// Bytes after the change's op columns (always empty from today's writers).
    package var extraBytes: [UInt8]

    package init(
        actor: Int,
        seq: UInt64,
        maxOp: UInt64,
        time: Int64 = 0,
        message: String? = nil,
        dependencies: [Int] = [],
        extraBytes: [UInt8] = []
    ) {
        self.actor = actor
        self.seq = seq
        self.maxOp = maxOp
        self.time = time
        self.message = message
        self.dependencies = dependencies
        self.extraBytes = extraBytes
    }

    package static func == (lhs: DocumentChangeRow, rhs: DocumentChangeRow) -> Bool {
        let sameMessage: Bool
        switch (lhs.message, rhs.message) {
        case (nil, nil): sameMessage = true
        case (let a?, let b?): sameMessage = a.utf8.elementsEqual(b.utf8)
        default: sameMessage = false
        }
        return sameMessage && lhs.actor == rhs.actor && lhs.seq == rhs.seq && lhs.maxOp == rhs.maxOp && lhs.time == rhs.time
            && lhs.dependencies == rhs.dependencies && lhs.extraBytes == rhs.extraBytes
    }
}

/// One row of a document chunk's op columns (docs/binary-format.md §5.3): an op stored once, with the ids of the
/// ops that later overwrote, deleted or incremented it instead of its preds.
///
/// Every `OpId` here (the object, an element key, the op's own id, the successors) counts its
/// `actor` as an index into the **document's sorted actor table** — not a change-local table.
///
/// A document lists its op rows in *document order* (docs/binary-format.md §5.4), which the writer does not
/// check or change:
/// 1. objects: the root first, then by creating op id (counter, then actor bytes);
/// 2. a map's ops by key (UTF-8 bytes), then by op id;
/// 3. a list's or text's ops in RGA order: each element's insert op, then the ops that target it
///    by op id.
///
/// Delete ops are never rows: a delete exists only as a successor of the ops it removed.
package struct DocumentOpRow: Sendable, Equatable {
    /// `.root` or the object created by op `.op(id)`.
    package var object: ObjectId
    /// A map key, a sequence element (the element's insert op id), or `.head` for an insert at
    /// the start of a sequence.
    package var key: Key
    /// The op's id: its Lamport counter and author.
    package var id: OpId
    /// True when the op inserts a new sequence element (its id becomes the element id).
    package var insert: Bool
    /// Never `.delete` in a document.
    package var action: Action
    /// The value of a put, the initial value of a counter, the delta of an increment, a mark's
    /// value; `.null` otherwise.
    package var value: ScalarValue
    /// The ops that overwrote, deleted or incremented this one, in stored order (the reference
    /// sorts them by op id: counter, then actor bytes).
    package var successors: [OpId]
    /// The mark "expand" flag (mark ops only).
    package var expand: Bool
    /// The name of a mark-begin op; nil otherwise.
    package var markName: String?

    /// A row to overwrite field by field, for readers that hand out one reused row per op.
    static var scratch: DocumentOpRow { DocumentOpRow(object: .root, key: .head, id: OpId(counter: 0, actor: 0), action: .put) }

    package init(
        object: ObjectId,
        key: Key,
        id: OpId,
        insert: Bool = false,
        action: Action,
        value: ScalarValue = .null,
        successors: [OpId] = [],
        expand: Bool = false,
        markName: String? = nil
    ) {
        self.object = object
        self.key = key
        self.id = id
        self.insert = insert
        self.action = action
        self.value = value
        self.successors = successors
        self.expand = expand
        self.markName = markName
    }

    package static func == (lhs: DocumentOpRow, rhs: DocumentOpRow) -> Bool {
        let sameMarkName: Bool
        switch (lhs.markName, rhs.markName) {
        case (nil, nil): sameMarkName = true
        case (let a?, let b?): sameMarkName = a.utf8.elementsEqual(b.utf8)
        default: sameMarkName = false
        }
        return sameMarkName && lhs.object == rhs.object && lhs.key == rhs.key && lhs.id == rhs.id && lhs.insert == rhs.insert
            && lhs.action == rhs.action && lhs.value == rhs.value && lhs.successors == rhs.successors && lhs.expand == rhs.expand
    }
}

/// A document head and the row of its change in the change columns.
package struct DocumentHead: Sendable, Equatable {
    package var hash: ChangeHash
    package var row: Int

    package init(hash: ChangeHash, row: Int) {
        self.hash = hash
        self.row = row
    }
}
