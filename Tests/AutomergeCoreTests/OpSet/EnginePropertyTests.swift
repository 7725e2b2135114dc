import Testing

@testable import AutomergeCore

/// Random concurrent edits on 2–3 actors: whatever causal order the changes are applied in,
/// the state (JSON view and document-order op rows) is the same.
@Suite struct EnginePropertyTests {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
    }

    static func actor(_ byte: UInt8) -> ActorId { ActorId(Array(repeating: byte, count: 16)) }

    /// Peers (one per actor byte, the first the author) sharing one base change: a list, a text
    /// holding `text` and a counter at the root, the start of every random history here.
    static func sharedStart(actors: [UInt8], text: String) throws -> [AutomergeDocument] {
        var base = AutomergeDocument(actor: actor(actors[0]))
        try base.putObject(.root, key: "list", .list)
        let textObject = try base.putObject(.root, key: "text", .text)
        try base.splice(textObject, at: 0, delete: 0, insert: text)
        try base.put(.root, key: "counter", .counter(1))
        let committed = base.commit(message: "base", time: 1)
        let first = try #require(committed)
        var peers = [base]
        for byte in actors.dropFirst() {
            var peer = AutomergeDocument(actor: actor(byte))
            try peer.apply([first])
            peers.append(peer)
        }
        return peers
    }

    /// One round of a random history: every peer makes 1–4 random edits and commits, then one
    /// random peer takes everything another has.
    static func editRound(_ peers: inout [AutomergeDocument], round: Int, _ rng: inout SplitMix) throws {
        for index in peers.indices {
            for _ in 0..<Int.random(in: 1...4, using: &rng) { try edit(&peers[index], &rng) }
            peers[index].commit(time: Int64(round))
        }
        let from = Int.random(in: 0..<peers.count, using: &rng)
        let to = Int.random(in: 0..<peers.count, using: &rng)
        if from != to { try peers[to].apply(peers[from].changes(since: peers[to].heads)) }
    }

    static func randomScalar(_ rng: inout SplitMix) -> ScalarValue {
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: return .int(Int64.random(in: -1000...1000, using: &rng))
        case 1: return .string(["x", "yz", "ünï", ""].randomElement(using: &rng) ?? "x")
        case 2: return .bool(Bool.random(using: &rng))
        case 3: return .f64(Double(Int.random(in: 0...100, using: &rng)) / 4)
        case 4: return .null
        default: return .uint(UInt64.random(in: 0...UInt64.max, using: &rng))
        }
    }

    /// One random local edit on the shared structure (root keys, a list, a text, a counter,
    /// a nested map).
    static func edit(_ document: inout AutomergeDocument, _ rng: inout SplitMix) throws {
        guard case .object(let list, .list)? = document.opSet.get(.root, key: "list"),
            case .object(let text, .text)? = document.opSet.get(.root, key: "text")
        else { return }
        let listLength = document.opSet.length(list)
        let textLength = document.opSet.length(text)
        switch Int.random(in: 0..<10, using: &rng) {
        case 0: try document.put(.root, key: ["a", "b", "c"].randomElement(using: &rng) ?? "a", randomScalar(&rng))
        case 1: try document.delete(.root, key: ["a", "b", "c"].randomElement(using: &rng) ?? "a")
        case 2: try document.insert(list, at: Int.random(in: 0...listLength, using: &rng), randomScalar(&rng))
        case 3 where listLength > 0: try document.delete(list, at: Int.random(in: 0..<listLength, using: &rng))
        case 4 where listLength > 0: try document.put(list, at: Int.random(in: 0..<listLength, using: &rng), randomScalar(&rng))
        case 5:
            let position = Int.random(in: 0...textLength, using: &rng)
            let deleteCount = Int.random(in: 0...min(2, textLength - position), using: &rng)
            try document.splice(text, at: position, delete: deleteCount, insert: ["ab", "ç", "🇬🇧", ""].randomElement(using: &rng) ?? "")
        case 6:
            if document.opSet.get(.root, key: "counter") != nil {
                try document.increment(.root, key: "counter", by: Int64.random(in: -5...5, using: &rng))
            }
        case 7:
            let nested = try document.putObject(.root, key: "m", Bool.random(using: &rng) ? .map : .list)
            if document.opSet.objectKind(nested) == .map { try document.put(nested, key: "k", randomScalar(&rng)) }
        case 8: try document.put(.root, key: "counter", .counter(Int64.random(in: 0...10, using: &rng)))
        default:
            let inner = try document.insertObject(list, at: Int.random(in: 0...listLength, using: &rng), .map)
            try document.put(inner, key: "v", randomScalar(&rng))
        }
    }

    /// A random order of `chunks` in which every change follows its deps.
    static func randomCausalOrder(_ chunks: [ChangeChunk], _ rng: inout SplitMix) throws -> [ChangeChunk] {
        var remaining = chunks
        var done: Set<ChangeHash> = []
        var order: [ChangeChunk] = []
        while !remaining.isEmpty {
            var ready: [Int] = []
            for (index, chunk) in remaining.enumerated() where try ChangeMetadata(chunk: chunk).deps.allSatisfy(done.contains) {
                ready.append(index)
            }
            let picked = ready.randomElement(using: &rng)
            let pick = try #require(picked)
            let chunk = remaining.remove(at: pick)
            done.insert(chunk.hash)
            order.append(chunk)
        }
        return order
    }

    @Test(arguments: 0..<12)
    func everyCausalOrderGivesTheSameState(seed: Int) throws {
        var rng = SplitMix(state: UInt64(seed) &* 7919 &+ 1)
        let actorCount = 2 + seed % 2
        var peers = try Self.sharedStart(actors: (1...actorCount).map { UInt8($0) }, text: "hello")
        for round in 0..<6 { try Self.editRound(&peers, round: round, &rng) }
        // Everyone merges everything.
        for to in peers.indices {
            for from in peers.indices where from != to { try peers[to].apply(peers[from].changes(since: peers[to].heads)) }
        }
        let expectedJSON = peers[0].json()
        let expectedRows = peers[0].opSet.documentOps()
        for peer in peers.dropFirst() {
            #expect(peer.heads == peers[0].heads)
            #expect(peer.json() == expectedJSON)
            #expect(peer.opSet.documentOps() == expectedRows)
        }
        let all = peers[0].changes
        for _ in 0..<4 {
            var opSet = OpSet()
            for chunk in try Self.randomCausalOrder(all, &rng) { try opSet.apply(try Change(chunk: chunk)) }
            #expect(opSet.json() == expectedJSON)
            #expect(opSet.documentOps() == expectedRows)
            #expect(opSet.documentActors == peers[0].opSet.documentActors)
        }
        // Any order at all through the document: the graph queues what is not ready yet.
        var shuffled = AutomergeDocument(actor: Self.actor(9))
        for chunk in all.shuffled(using: &rng) { try shuffled.apply([chunk]) }
        #expect(shuffled.json() == expectedJSON)
        // Reloading the committed changes gives the same state.
        let reloaded = try AutomergeDocument(loading: all.flatMap(\.bytes), actor: Self.actor(9))
        #expect(reloaded.json() == expectedJSON)
    }

    @Test func localEditsProduceCanonicalChanges() throws {
        var document = AutomergeDocument(actor: Self.actor(1))
        let list = try document.putObject(.root, key: "l", .list)
        try document.insert(list, at: 0, .int(1))
        try document.insert(list, at: 1, .int(2))
        try document.insert(list, at: 0, .int(0))
        try document.delete(list, at: 1)
        try document.put(.root, key: "c", .counter(3))
        try document.increment(.root, key: "c", by: 4)
        let committed = document.commit(message: "m", time: 5)
        let chunk = try #require(committed)
        let change = try Change(chunk: chunk)
        #expect(change.seq == 1 && change.startOp == 1 && change.deps.isEmpty && change.message == "m" && change.time == 5)
        #expect(change.ops.count == 7)
        #expect(change.encodeChunk().bytes == chunk.bytes)
        #expect(document.json().serialized() == "{\n  \"c\": 7,\n  \"l\": [\n    0,\n    2\n  ]\n}\n")
        try document.put(.root, key: "x", .null)
        let secondChunk = document.commit()
        let second = try Change(chunk: try #require(secondChunk))
        #expect(second.seq == 2 && second.startOp == 8 && second.deps == [chunk.hash])
        #expect(document.commit() == nil)
    }

    @Test func editsOnMissingObjectsOrPositionsThrow() throws {
        var document = AutomergeDocument(actor: Self.actor(1))
        let list = try document.putObject(.root, key: "l", .list)
        #expect(throws: AutomergeError.self) { try document.insert(list, at: 2, .int(1)) }
        #expect(throws: AutomergeError.self) { try document.delete(list, at: 0) }
        #expect(throws: AutomergeError.self) { try document.put(list, key: "k", .int(1)) }
        #expect(throws: AutomergeError.self) { try document.insert(.root, at: 0, .int(1)) }
        #expect(throws: AutomergeError.self) { try document.increment(.root, key: "l", by: 1) }
        #expect(throws: AutomergeError.self) {
            try document.put(.id(ExId(counter: 99, actor: Self.actor(1))), key: "k", .int(1))
        }
    }
}
