/// The CRDT state of a document: every op that is not a delete, indexed by object, key and
/// sequence position, with successor lists recording what overwrote, deleted or incremented
/// each op (deletes live only there, as in a document chunk).
///
/// Built either by `apply(_:)`-ing changes **in causal order** (the change graph queues changes
/// whose deps are missing; `AutomergeDocument` wires the two) or, much faster, straight from a
/// document chunk with `init(document:)`, whose stored op order is already document order.
/// Applying the same changes in any causal order gives the same state: map ops are kept per
/// key and sorted by op id when read, and sequence positions follow the RGA rule, which does
/// not depend on arrival order.
///
/// Ids are kept compactly: actors are numbered in order of first appearance (`actors`), and
/// Lamport comparisons use each actor's rank by bytes (`actorRank`).
package struct OpSet: Sendable {
    private(set) var actors: [ActorId] = []
    private var actorIndex: [ActorId: Int32] = [:]
    /// Position of each actor in byte order (for Lamport comparison and the sorted table).
    private(set) var actorRank: [Int32] = []

    var ops: [OpRecord] = []
    var succs: [SuccEntry] = []
    /// Packed op id → index in `ops`.
    var opIndex: [UInt64: Int32] = [:]
    /// Object 0 is the root map.
    var objects: [ObjectState] = [ObjectState(kind: .map, creator: -1)]
    /// Packed id of the creating op → object index.
    var objectIndex: [UInt64: Int32] = [:]
    /// Map keys, interned (compared by UTF-8 bytes).
    var strings: [String] = []
    var stringIndex: [Key: Int32] = [:]
    /// The largest op counter seen: a local change starts after it.
    package private(set) var maxOp: UInt64 = 0

    package init() {}

    /// The number of stored (non-delete) ops.
    package var opCount: Int { ops.count }

    /// Every actor seen, sorted by bytes: the actor table of `forEachDocumentOp`.
    package var documentActors: [ActorId] {
        var sorted = [ActorId](repeating: ActorId([]), count: actors.count)
        for (index, actor) in actors.enumerated() { sorted[Int(actorRank[index])] = actor }
        return sorted
    }

    mutating func internActor(_ actor: ActorId) -> Int32 {
        if let existing = actorIndex[actor] { return existing }
        let index = Int32(actors.count)
        actors.append(actor)
        actorIndex[actor] = index
        // Actors are few: recompute the ranks.
        let order = actors.indices.sorted { actors[$0] < actors[$1] }
        actorRank = [Int32](repeating: 0, count: actors.count)
        for (rank, actor) in order.enumerated() { actorRank[actor] = Int32(rank) }
        return index
    }

    func knownActor(_ actor: ActorId) -> Int32? { actorIndex[actor] }

    mutating func intern(_ key: String) -> Int32 {
        let wrapped = Key.map(key)
        if let existing = stringIndex[wrapped] { return existing }
        let index = Int32(strings.count)
        strings.append(key)
        stringIndex[wrapped] = index
        return index
    }

    @inline(__always) static func pack(_ counter: UInt32, _ actor: Int32) -> UInt64 {
        UInt64(counter) << 32 | UInt64(UInt32(bitPattern: actor))
    }

    /// Lamport order of two ops: counter, then actor bytes.
    @inline(__always) func lamportLess(_ a: Int32, _ b: Int32) -> Bool {
        let x = ops[Int(a)]
        let y = ops[Int(b)]
        return x.counter != y.counter ? x.counter < y.counter : actorRank[Int(x.actor)] < actorRank[Int(y.actor)]
    }

    @inline(__always) func lamportLess(_ a: (UInt32, Int32), _ b: (UInt32, Int32)) -> Bool {
        a.0 != b.0 ? a.0 < b.0 : actorRank[Int(a.1)] < actorRank[Int(b.1)]
    }

    mutating func noteCounter(_ counter: UInt32) {
        if UInt64(counter) > maxOp { maxOp = UInt64(counter) }
    }
}

/// The kind of an Automerge object.
package enum ObjectKind: Sendable, Equatable {
    case map, list, text, table

    var isSequence: Bool { self == .list || self == .text }

    init?(making action: Action) {
        switch action {
        case .makeMap: self = .map
        case .makeList: self = .list
        case .makeText: self = .text
        case .makeTable: self = .table
        default: return nil
        }
    }
}

/// One stored op (about 56 bytes; large documents hold close to a million).
struct OpRecord: Sendable {
    var counter: UInt32
    var actor: Int32
    var object: Int32
    /// Map ops: the interned key. Sequence ops: the reference element (insert) or the target
    /// element (others), as an op index; -1 = HEAD.
    var key: Int32
    var firstSucc: Int32 = -1
    var markName: Int32 = -1
    /// Elements: the sequence chunk holding them.
    var slot: Int32 = -1
    /// Make ops: the object they created.
    var child: Int32 = -1
    var action: Action
    var insert: Bool
    var expand: Bool
    /// Elements: whether the element is visible in the current state.
    var elementVisible = false
    var value: ScalarValue
}

/// A successor of an op, in a per-op singly linked list.
struct SuccEntry: Sendable {
    var counter: UInt32
    var actor: Int32
    /// The successor op, or -1 for a delete (deletes are not stored).
    var op: Int32
    var next: Int32
}

struct ObjectState: Sendable {
    var kind: ObjectKind
    /// The make op, -1 for the root.
    var creator: Int32
    /// Maps and tables: interned key → ops at that key, in arrival order.
    var keyOps: [Int32: [Int32]] = [:]
    /// Lists and text: the elements (insert ops) in RGA order.
    var sequence = SequenceElements()
    /// Lists and text: element → the non-insert ops targeting it, in arrival order.
    var elementOps: [Int32: [Int32]] = [:]

    init(kind: ObjectKind, creator: Int32) {
        self.kind = kind
        self.creator = creator
    }
}

/// The elements of a sequence as a linked list of small chunks, each with a count of its
/// visible elements: inserting is O(chunk size) once the reference element is found through
/// its chunk, and a visible index is found by skipping whole chunks.
struct SequenceElements: Sendable {
    struct Chunk: Sendable {
        var elements: [Int32]
        var next: Int32
        var visible: Int32
    }

    static let chunkCapacity = 128
    var chunks: [Chunk] = []
    var first: Int32 = -1
    var last: Int32 = -1

    /// Elements in order.
    func forEach(_ body: (Int32) throws(AutomergeError) -> Void) throws(AutomergeError) {
        var chunk = first
        while chunk >= 0 {
            for element in chunks[Int(chunk)].elements { try body(element) }
            chunk = chunks[Int(chunk)].next
        }
    }

    var count: Int {
        var total = 0
        var chunk = first
        while chunk >= 0 {
            total += chunks[Int(chunk)].elements.count
            chunk = chunks[Int(chunk)].next
        }
        return total
    }
}
