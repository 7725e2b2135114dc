/// One op row of a document chunk (spec §5.3): what a document stores per op, in the order
/// it stores them (spec §5.4).
///
/// Actor indexes in `object`, `key`, `id` and `succ` refer to a **sorted document actor
/// table** (`DocumentChunk.actors` when read from a file, `OpSet.documentActors` when produced
/// by `OpSet.forEachDocumentOp`), so rows from either source compare directly and a column
/// writer can emit them as they are.
public struct StoredOp: Equatable, Sendable {
    public var object: ObjectId
    /// `.map` for map ops, `.head`/`.element` for sequence ops (the reference element of an
    /// insert, the target element otherwise).
    public var key: Key
    public var id: OpId
    public var insert: Bool
    public var action: Action
    public var value: ScalarValue
    /// Ids of the later ops that overwrote, deleted or incremented this op, in Lamport order
    /// (counter, then actor bytes). Deletes exist only here.
    public var succ: [OpId]
    public var expand: Bool
    public var markName: String?

    public init(
        object: ObjectId,
        key: Key,
        id: OpId,
        insert: Bool,
        action: Action,
        value: ScalarValue,
        succ: [OpId],
        expand: Bool,
        markName: String?
    ) {
        self.object = object
        self.key = key
        self.id = id
        self.insert = insert
        self.action = action
        self.value = value
        self.succ = succ
        self.expand = expand
        self.markName = markName
    }

    public static func == (lhs: StoredOp, rhs: StoredOp) -> Bool {
        let sameMarkName: Bool
        switch (lhs.markName, rhs.markName) {
        case (nil, nil): sameMarkName = true
        case (let a?, let b?): sameMarkName = a.utf8.elementsEqual(b.utf8)
        default: sameMarkName = false
        }
        return sameMarkName && lhs.object == rhs.object && lhs.key == rhs.key && lhs.id == rhs.id && lhs.insert == rhs.insert
            && lhs.action == rhs.action && lhs.value == rhs.value && lhs.succ == rhs.succ && lhs.expand == rhs.expand
    }
}
