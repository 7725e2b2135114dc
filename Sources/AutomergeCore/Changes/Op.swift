/// An op id inside a change: a counter and an index into the change's actor table
/// (0 = the author, 1… = the change's other actors).
package struct OpId: Hashable, Sendable, CustomStringConvertible {
    package var counter: UInt64
    package var actor: Int

    package init(counter: UInt64, actor: Int) {
        self.counter = counter
        self.actor = actor
    }

    package var description: String { "\(counter)@\(actor)" }
}

/// The object an op acts on: the root map or the object created by an op.
package enum ObjectId: Hashable, Sendable {
    case root
    case op(OpId)
}

/// Where in its object an op acts: a map key, or a sequence element (`head` = the start).
package enum Key: Hashable, Sendable {
    case map(String)
    case head
    case element(OpId)

    /// Map keys compare by UTF-8 bytes (never by Unicode equivalence).
    package static func == (lhs: Key, rhs: Key) -> Bool {
        switch (lhs, rhs) {
        case (.map(let a), .map(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.head, .head): return true
        case (.element(let a), .element(let b)): return a == b
        default: return false
        }
    }

    package func hash(into hasher: inout Hasher) {
        switch self {
        case .map(let key):
            hasher.combine(0)
            for byte in key.utf8 { hasher.combine(byte) }
        case .head: hasher.combine(1)
        case .element(let id):
            hasher.combine(2)
            hasher.combine(id)
        }
    }
}

/// Op actions (docs/binary-format.md §3.3). The reference rejects any other code.
package enum Action: UInt64, Sendable {
    case makeMap = 0
    case put = 1
    case makeList = 2
    case delete = 3
    case makeText = 4
    case increment = 5
    case makeTable = 6
    case mark = 7
}

/// One operation of a change, with ids relative to the change's actor table.
package struct Op: Equatable, Sendable {
    package var object: ObjectId
    package var key: Key
    package var insert: Bool
    package var action: Action
    package var value: ScalarValue
    /// The ops this one overwrites or deletes, sorted by (counter, actor bytes).
    package var pred: [OpId]
    /// The mark "expand" flag (mark ops only).
    package var expand: Bool
    /// The mark name of a mark-begin op; nil otherwise.
    package var markName: String?

    package init(
        object: ObjectId,
        key: Key,
        insert: Bool = false,
        action: Action,
        value: ScalarValue = .null,
        pred: [OpId] = [],
        expand: Bool = false,
        markName: String? = nil
    ) {
        self.object = object
        self.key = key
        self.insert = insert
        self.action = action
        self.value = value
        self.pred = pred
        self.expand = expand
        self.markName = markName
    }

    package static func == (lhs: Op, rhs: Op) -> Bool {
        let sameMarkName: Bool
        switch (lhs.markName, rhs.markName) {
        case (nil, nil): sameMarkName = true
        case (let a?, let b?): sameMarkName = a.utf8.elementsEqual(b.utf8)
        default: sameMarkName = false
        }
        return sameMarkName && lhs.object == rhs.object && lhs.key == rhs.key && lhs.insert == rhs.insert
            && lhs.action == rhs.action && lhs.value == rhs.value && lhs.pred == rhs.pred && lhs.expand == rhs.expand
    }
}
