import ByteEncodings
import Crypto
import Foundation
import TestSupport
import Testing

@testable import AutomergeCore

/// Seeded random corruption of real inputs, fed to every decoder: each input must end in a
/// value or an `AutomergeError` (typed throws make any other error impossible), never a trap
/// or a hang; a load that succeeds must leave a consistent graph, and one that fails must leave
/// the graph as it was.
@Suite struct DecoderFuzzTests {
    static let limits = DocumentLimits(maximumChanges: 1 << 16, maximumOps: 1 << 18)

    // MARK: - Mutations

    /// Re-encodes the LEB128 that starts at `index` as a larger value.
    static func inflateLEB(_ bytes: inout [UInt8], at index: Int, _ rng: inout SplitMix64) {
        let (value, end) = LEB128.scanUnsigned(bytes, from: index)
        let grown: UInt64
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: grown = value &+ 1
        case 1: grown = value &+ UInt64.random(in: 2...64, using: &rng)
        case 2: grown = value &* 2 &+ 1
        case 3: grown = UInt64(Int32.max) &+ UInt64.random(in: 0...2, using: &rng)
        default: grown = UInt64.max >> UInt64.random(in: 0...8, using: &rng)
        }
        var encoded: [UInt8] = []
        LEB128.appendUnsigned(grown, to: &encoded)
        bytes.replaceSubrange(index..<end, with: encoded)
    }

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            switch Int.random(in: 0..<7, using: &rng) {
            case 0 where !bytes.isEmpty:  // flip a bit
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            case 1 where !bytes.isEmpty:  // replace a byte, favouring LEB-breaking values
                let values: [UInt8] = [0x00, 0x01, 0x7f, 0x80, 0xff, UInt8.random(in: 0...255, using: &rng)]
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = values.randomElement(using: &rng) ?? 0
            case 2:  // truncate
                bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng)))
            case 3:  // insert
                let count = Int.random(in: 1...8, using: &rng)
                let index = Int.random(in: 0...bytes.count, using: &rng)
                bytes.insert(contentsOf: (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: index)
            case 4 where !bytes.isEmpty:  // delete a range
                let start = Int.random(in: 0..<bytes.count, using: &rng)
                bytes.removeSubrange(start..<min(bytes.count, start + Int.random(in: 1...16, using: &rng)))
            case 5 where !bytes.isEmpty:  // make a length, count or value field larger
                inflateLEB(&bytes, at: Int.random(in: 0..<bytes.count, using: &rng), &rng)
            default:  // duplicate a slice (repeated chunks, repeated columns)
                guard !bytes.isEmpty else { continue }
                let start = Int.random(in: 0..<bytes.count, using: &rng)
                let slice = bytes[start..<min(bytes.count, start + Int.random(in: 1...64, using: &rng))]
                bytes.insert(contentsOf: slice, at: Int.random(in: 0...bytes.count, using: &rng))
            }
        }
        return bytes
    }

    /// Rewrites the checksum of every well-framed type 0/1 chunk, so that corrupted bodies get
    /// past the checksum and reach the column and row decoders.
    static func refreshChecksums(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        var offset = 0
        while offset + 9 <= bytes.count, bytes[offset..<(offset + 4)].elementsEqual(Chunk.magic) {
            var reader = ByteReader(bytes, range: (offset + 9)..<bytes.count)
            guard let length = try? reader.readULEB(), length <= UInt64(reader.remaining) else { break }
            let end = reader.offset + Int(length)
            if bytes[offset + 8] <= 1 {
                let digest = Array(SHA256.hash(data: bytes[(offset + 8)..<end]))
                bytes.replaceSubrange((offset + 4)..<(offset + 8), with: digest[0..<4])
            }
            offset = end
        }
        return bytes
    }

    /// The (type, body) frames of a well-formed chunk sequence; empty when it is not one.
    static func frames(_ bytes: [UInt8]) -> [(UInt8, [UInt8])] {
        var result: [(UInt8, [UInt8])] = []
        var offset = 0
        while offset < bytes.count {
            guard offset + 9 <= bytes.count, bytes[offset..<(offset + 4)].elementsEqual(Chunk.magic) else { return [] }
            var reader = ByteReader(bytes, range: (offset + 9)..<bytes.count)
            guard let length = try? reader.readULEB(), length <= UInt64(reader.remaining) else { return [] }
            let end = reader.offset + Int(length)
            result.append((bytes[offset + 8], Array(bytes[reader.offset..<end])))
            offset = end
        }
        return result
    }

    /// A chunk with a correct length and checksum around `body` (type 0 or 1).
    static func frame(type: UInt8, _ body: [UInt8]) -> [UInt8] {
        var header: [UInt8] = [type]
        LEB128.appendUnsigned(UInt64(body.count), to: &header)
        let digest = Array(SHA256.hash(data: header + body))
        return Chunk.magic + digest[0..<4] + header + body
    }

    /// Corrupts the body of one chunk and frames it again, so that every such input gets past
    /// the container and reaches the header, column and row decoders.
    static func mutateBody(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8]? {
        let chunks = frames(input)
        guard !chunks.isEmpty else { return nil }
        let target = Int.random(in: 0..<chunks.count, using: &rng)
        guard chunks[target].0 <= 1 else { return nil }
        var output: [UInt8] = []
        for (index, (type, body)) in chunks.enumerated() {
            output += frame(type: type, index == target ? mutate(body, &rng) : body)
        }
        return output
    }

    // MARK: - Exercising every decoder

    struct Tally {
        var accepted: [String: Int] = [:]
        var rejected: [String: Int] = [:]
        mutating func record(_ what: String, _ ok: Bool) {
            if ok { accepted[what, default: 0] += 1 } else { rejected[what, default: 0] += 1 }
        }
    }

    static func same(_ a: ChangeGraph, _ b: ChangeGraph) -> Bool {
        a.count == b.count && a.heads == b.heads && a.queuedCount == b.queuedCount && a.allHashes == b.allHashes
            && a.missingDeps == b.missingDeps
    }

    /// Checks that a graph's heads are exactly its applied changes that nothing depends on.
    static func expectConsistent(_ graph: ChangeGraph, _ label: String) {
        var depended: Set<ChangeHash> = []
        for hash in graph.allHashes {
            for dep in graph.deps(of: hash) ?? [] {
                depended.insert(dep)
                #expect(graph.contains(dep), "\(label): applied change with a dep that is not applied")
            }
        }
        #expect(graph.heads == graph.allHashes.filter { !depended.contains($0) }.sorted(), "\(label): heads")
    }

    static func exercise(_ bytes: [UInt8], base: ChangeGraph, tally: inout Tally) {
        // Chunks, changes, metadata, documents.
        var documents: [DocumentChunk] = []
        var reader = ChunkReader(bytes)
        var chunksOK = true
        while true {
            let chunk: Chunk?
            do { chunk = try reader.next() } catch {
                chunksOK = false
                break
            }
            guard let chunk else { break }
            switch chunk {
            case .change(let changeChunk):
                let change = try? Change(chunk: changeChunk)
                let metadata = try? ChangeMetadata(chunk: changeChunk)
                tally.record("Change", change != nil)
                tally.record("ChangeMetadata", metadata != nil)
                if let change {
                    // Whatever the full decode accepts, the cheap parse accepts and agrees with.
                    #expect(metadata?.maxOp == change.maxOp)
                    #expect(metadata?.deps == change.deps)
                    #expect(metadata?.actor == change.actor)
                }
            case .document(let documentBytes):
                do {
                    let document = try DocumentChunk(documentBytes)
                    documents.append(document)
                    let rebuilt = try document.rebuildChanges(limits: limits)
                    tally.record("rebuild", true)
                    let hashes = Set(rebuilt.map(\.chunk.hash))
                    #expect(document.heads.allSatisfy(hashes.contains), "rebuilt changes miss a stored head")
                    #expect(rebuilt.count <= limits.maximumChanges)
                } catch {
                    tally.record("rebuild", false)
                }
            }
        }
        tally.record("ChunkReader", chunksOK)

        // Sync message and sync state.
        if let message = try? SyncMessage.decode(bytes) {
            tally.record("SyncMessage", true)
            var graph = base
            var state = SyncState()
            do {
                try graph.receiveSyncMessage(&state, message)
                expectConsistent(graph, "after receiveSyncMessage")
            } catch {
                #expect(same(graph, base), "a rejected sync message changed the graph")
            }
        } else {
            tally.record("SyncMessage", false)
        }
        tally.record("SyncState", (try? SyncState(decoding: bytes)) != nil)

        // Loads: into an empty graph (the fast path) and into a non-empty one.
        var empty = ChangeGraph()
        do {
            try empty.load(bytes, limits: limits)
            tally.record("load", true)
            #expect(chunksOK, "load accepted what ChunkReader rejects")
            expectConsistent(empty, "after load")
            for document in documents { #expect(document.heads.allSatisfy(empty.contains), "a document head was not loaded") }
        } catch {
            tally.record("load", false)
            #expect(empty.count == 0 && empty.queuedCount == 0 && empty.heads.isEmpty, "a failed load left changes behind")
        }
        var graph = base
        do {
            try graph.load(bytes, validation: .metadata, limits: limits)
            expectConsistent(graph, "after load into a non-empty graph")
            #expect(base.allHashes.allSatisfy(graph.contains))
        } catch {
            #expect(same(graph, base), "a failed load changed a non-empty graph")
        }
    }

    static func run(corpus: [[UInt8]], iterations: Int, seed: UInt64, base: ChangeGraph) -> Tally {
        var rng = SplitMix64(seed: seed)
        var tally = Tally()
        for _ in 0..<iterations {
            let input = corpus[Int.random(in: 0..<corpus.count, using: &rng)]
            var bytes: [UInt8]
            if Bool.random(using: &rng), let framed = mutateBody(input, &rng) {
                bytes = framed
            } else {
                bytes = mutate(input, &rng)
                if Bool.random(using: &rng) { bytes = refreshChecksums(bytes) }
            }
            exercise(bytes, base: base, tally: &tally)
        }
        return tally
    }

    // MARK: - Corpora

    /// Inputs built here, so that part of the fuzzing runs without fixtures.
    static func builtCorpus() -> [[UInt8]] {
        var chunks: [ChangeChunk] = []
        let actors = [ChangeGraphTests.alice, ChangeGraphTests.bob]
        for index in 0..<6 {
            let deps = chunks.suffix(2).map(\.hash)
            let change = Change(
                deps: deps.sorted(),
                actor: actors[index % 2],
                seq: UInt64(index / 2 + 1),
                startOp: UInt64(index * 3 + 1),
                time: Int64(index) * 1000,
                message: index == 3 ? "three" : nil,
                otherActors: index % 2 == 0 ? [actors[1]] : [],
                ops: [
                    Op(object: .root, key: .map("list"), action: .makeList),
                    Op(object: .op(OpId(counter: UInt64(index * 3 + 1), actor: 0)), key: .head, insert: true, action: .put, value: .string("x")),
                    Op(object: .root, key: .map("n"), action: .put, value: .int(-Int64(index)), pred: index > 0 ? [OpId(counter: 1, actor: 0)] : []),
                ]
            )
            chunks.append(change.encodeChunk())
        }
        var state = SyncState()
        state.sharedHeads = [chunks[5].hash, chunks[4].hash]
        let message = SyncMessage(
            version: .v1,
            heads: [chunks[5].hash],
            need: [chunks[0].hash],
            have: [SyncHave(lastSync: [chunks[1].hash], bloom: BloomFilter(hashes: chunks.map(\.hash)))],
            changes: chunks.map(\.bytes),
            trailer: .legacyCapabilities
        )
        return [
            ColumnVectorTests.annotatedChange.encodeChunk().bytes,
            ColumnVectorTests.emptyDocument,
            chunks.flatMap(\.bytes),
            chunks[2].bytes,
            state.encode(),
            message.encode(),
        ]
    }

    static func builtBase() -> ChangeGraph {
        var graph = ChangeGraph()
        let first = ChangeGraphTests.change(ChangeGraphTests.carol, seq: 1)
        let second = ChangeGraphTests.change(ChangeGraphTests.carol, seq: 2, deps: [first.hash], startOp: 2)
        let orphan = ChangeGraphTests.change(ChangeGraphTests.alice, seq: 7, deps: [ChangeGraphTests.change(ChangeGraphTests.alice, seq: 6).hash])
        _ = try? graph.add([first, second, orphan])
        return graph
    }

    static func fixtureFiles(_ group: String) -> [String] {
        func small(_ paths: [String], limit: Int = 4096) -> [String] {
            paths.filter { ((try? FileManager.default.attributesOfItem(atPath: Fixtures.url($0).path)[.size]) as? Int ?? .max) <= limit }
        }
        switch group {
        case "upstream":
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: Fixtures.url("upstream").path)) ?? []).sorted()
            return small(names.filter { !$0.contains(".json") && !$0.hasSuffix(".md") }.map { "upstream/" + $0 })
        case "generated":
            var paths: [String] = []
            for folder in ["generated", "generated/am2"] {
                for suffix in [".automerge", ".changes", ".incremental"] { paths += Fixtures.files(in: folder, suffix: suffix) }
            }
            return small(paths)
        case "sync":
            return small(
                Fixtures.files(in: "sync/messages", suffix: ".bin") + Fixtures.files(in: "sync/messages", suffix: ".automerge")
                    + Fixtures.files(in: "sync/sync-state", suffix: ".bin"),
                limit: 8192
            )
        default:
            var paths: [String] = []
            for directory in ["nodefs/data", "nodefs/client-data"] {
                guard let enumerator = FileManager.default.enumerator(atPath: Fixtures.url(directory).path) else { continue }
                for case let path as String in enumerator
                where path.contains("/snapshot/") || path.contains("/incremental/") || path.contains("/sync-state/") {
                    paths.append(directory + "/" + path)
                }
            }
            return small(paths.sorted(), limit: 8192)
        }
    }

    // MARK: - Tests

    @Test func builtInputsSurviveMutation() async throws {
        try await offPool {
            let tally = Self.run(corpus: Self.builtCorpus(), iterations: 5_000, seed: 0xf022, base: Self.builtBase())
            // Every decoder saw both outcomes, or the mutations are not reaching it.
            for what in ["ChunkReader", "Change", "ChangeMetadata", "SyncMessage", "SyncState", "load"] {
                #expect(tally.accepted[what, default: 0] > 0, "\(what) accepted nothing")
                #expect(tally.rejected[what, default: 0] > 0, "\(what) rejected nothing")
            }
        }
    }

    @Test(.needsFixtures, arguments: [("upstream", 5_000), ("generated", 6_000), ("sync", 4_000), ("nodefs", 3_000)])
    func fixtureFilesSurviveMutation(group: String, iterations: Int) async throws {
        try await offPool {
            let paths = Self.fixtureFiles(group)
            #expect(paths.count >= 3, "\(group): \(paths)")
            let corpus = try paths.map { try Fixtures.bytes($0) }.filter { !$0.isEmpty }
            // A non-empty graph holding part of a real document, for the atomicity checks.
            var base = ChangeGraph()
            try base.load(try Fixtures.bytes("generated/counter.prefix.automerge"))
            #expect(base.count > 0)
            let seed = group.utf8.reduce(UInt64(0xf1)) { $0 &* 31 &+ UInt64($1) }
            let tally = Self.run(corpus: corpus, iterations: iterations, seed: seed, base: base)
            #expect(tally.accepted["load", default: 0] > 0, "\(group): no mutated input loaded")
            #expect(tally.rejected["load", default: 0] > 0, "\(group): every mutated input loaded")
            if group != "sync" {
                #expect(tally.accepted["rebuild", default: 0] + tally.accepted["Change", default: 0] > 0)
            }
        }
    }

    // MARK: - Hostile lengths

    static func documentChunk(_ body: [UInt8]) -> [UInt8] {
        var header: [UInt8] = [0x00]
        LEB128.appendUnsigned(UInt64(body.count), to: &header)
        let digest = Array(SHA256.hash(data: header + body))
        return Chunk.magic + digest[0..<4] + header + body
    }

    static func uleb(_ value: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        LEB128.appendUnsigned(value, to: &bytes)
        return bytes
    }

    static func sleb(_ value: Int64) -> [UInt8] {
        var bytes: [UInt8] = []
        LEB128.appendSigned(value, to: &bytes)
        return bytes
    }

    /// Column metadata followed by the column data.
    static func columns(_ columns: [(UInt64, [UInt8])]) -> [UInt8] {
        var bytes = uleb(UInt64(columns.count))
        for (spec, data) in columns { bytes += uleb(spec) + uleb(UInt64(data.count)) }
        for (_, data) in columns { bytes += data }
        return bytes
    }

    /// A document body after actors and heads: both metadata blocks, then both data blocks.
    static func documentColumns(_ change: [(UInt64, [UInt8])], _ op: [(UInt64, [UInt8])]) -> [UInt8] {
        var bytes = uleb(UInt64(change.count))
        for (spec, data) in change { bytes += uleb(spec) + uleb(UInt64(data.count)) }
        bytes += uleb(UInt64(op.count))
        for (spec, data) in op { bytes += uleb(spec) + uleb(UInt64(data.count)) }
        for (_, data) in change + op { bytes += data }
        return bytes
    }

    /// A change body up to its column metadata: no deps, a 1-byte actor, seq 1, startOp 1.
    static let changePrefix: [UInt8] = [0x00, 0x01, 0xaa, 0x01, 0x01, 0x00, 0x00, 0x00]

    static let hostileInputs: [(String, [UInt8])] = {
        let huge: UInt64 = 1 << 62
        var inputs: [(String, [UInt8])] = [
            ("chunk length 2^62", Chunk.magic + [0, 0, 0, 0, 0x01] + uleb(huge)),
            ("chunk length 2^64-1", Chunk.magic + [0, 0, 0, 0, 0x00] + uleb(UInt64.max) + [1, 2, 3]),
            ("compressed chunk length 2^31", Chunk.magic + [0, 0, 0, 0, 0x02] + uleb(1 << 31) + [0x03, 0x00]),
        ]
        func change(_ label: String, _ body: [UInt8]) { inputs.append((label, ChangeChunk(body: body).bytes)) }
        change("deps count 2^62", uleb(huge))
        change("actor length 2^62", [0x00] + uleb(huge))
        change("message length 2^62", [0x00, 0x01, 0xaa, 0x01, 0x01, 0x00] + uleb(huge))
        change("other actors 2^62", [0x00, 0x01, 0xaa, 0x01, 0x01, 0x00, 0x00] + uleb(huge))
        change("column count 2^62", changePrefix + uleb(huge))
        change("column length 2^62", changePrefix + [0x01, 0x42] + uleb(huge) + [0x7f, 0x00])
        change("column length Int32.max", changePrefix + [0x01, 0x42] + uleb(UInt64(Int32.max)) + [0x7f, 0x00])
        let keyA: (UInt64, [UInt8]) = (0x15, [0x7f, 0x01, 0x61])  // one op at key "a"
        change("repeat run 2^62 of actions", changePrefix + columns([keyA, (0x42, sleb(1 << 62) + [0x00])]))
        change("literal run -2^62 of actions", changePrefix + columns([keyA, (0x42, sleb(-(1 << 62)) + [0x00])]))
        change("repeat run 2^62 of keys", changePrefix + columns([(0x15, sleb(1 << 62) + [0x01, 0x61]), (0x42, [0x7f, 0x00])]))
        change("null run 2^62 of keys", changePrefix + columns([(0x15, [0x00] + uleb(huge)), (0x42, [0x7f, 0x00])]))
        change("value length 2^58", changePrefix + columns([keyA, (0x42, [0x7f, 0x01]), (0x56, [0x7f] + uleb(1 << 62 | 6)), (0x57, [0x00])]))
        change("pred group 2^40", changePrefix + columns([keyA, (0x42, [0x7f, 0x01]), (0x56, [0x7f, 0x00]), (0x70, [0x7f] + uleb(1 << 40))]))
        change("boolean run 2^62", changePrefix + columns([keyA, (0x34, uleb(huge)), (0x42, [0x7f, 0x00])]))
        change("startOp 2^62", [0x00, 0x01, 0xaa, 0x01] + uleb(huge) + [0x00, 0x00, 0x00] + columns([(0x42, [0x7f, 0x00])]))
        func document(_ label: String, _ body: [UInt8]) { inputs.append((label, documentChunk(body))) }
        let oneActor: [UInt8] = [0x01, 0x01, 0xaa, 0x00]  // actors ["aa"], no heads
        document("document actors 2^62", uleb(huge))
        document("document heads 2^62", [0x00] + uleb(huge))
        document("document column count 2^62", [0x00, 0x00] + uleb(huge))
        document("document column length 2^62", [0x00, 0x00, 0x01, 0x01] + uleb(huge) + [0x00])
        document("document deflated column length 2^30", [0x00, 0x00, 0x01, 0x09] + uleb(1 << 30) + [0x00, 0x03, 0x00])
        let maxOp1: (UInt64, [UInt8]) = (0x13, [0x7f, 0x01])
        document("document seq run 2^62", oneActor + documentColumns([(0x01, [0x7f, 0x00]), (0x03, sleb(1 << 62) + [0x01]), maxOp1], []))
        document("document actor null run 2^62", oneActor + documentColumns([(0x01, [0x00] + uleb(huge)), (0x03, [0x7f, 0x01]), maxOp1], []))
        document(
            "document deps group 2^40",
            oneActor + documentColumns([(0x01, [0x7f, 0x00]), (0x03, [0x7f, 0x01]), maxOp1, (0x40, [0x7f] + uleb(1 << 40))], [])
        )
        document(
            "document op rows 2^62",
            oneActor
                + documentColumns(
                    [(0x01, [0x7f, 0x00]), (0x03, [0x7f, 0x01]), maxOp1],
                    [(0x15, [0x7f, 0x01, 0x61]), (0x21, sleb(1 << 62) + [0x00]), (0x23, [0x7f, 0x01]), (0x42, [0x7f, 0x01])]
                )
        )
        document(
            "document value length 2^58",
            oneActor
                + documentColumns(
                    [(0x01, [0x7f, 0x00]), (0x03, [0x7f, 0x01]), maxOp1],
                    [
                        (0x15, [0x7f, 0x01, 0x61]), (0x21, [0x7f, 0x00]), (0x23, [0x7f, 0x01]), (0x42, [0x7f, 0x01]),
                        (0x56, [0x7f] + uleb(1 << 62 | 6)), (0x57, [0x00]),
                    ]
                )
        )
        inputs.append(("sync heads 2^62", [0x42] + uleb(huge)))
        inputs.append(("sync have 2^62", [0x42, 0x00, 0x00] + uleb(huge)))
        inputs.append(("sync changes 2^62", [0x42, 0x00, 0x00, 0x00] + uleb(huge)))
        inputs.append(("sync change length 2^62", [0x42, 0x00, 0x00, 0x00, 0x01] + uleb(huge) + [0x85]))
        inputs.append(("sync bloom 2^62 entries", [0x42, 0x00, 0x00, 0x01, 0x00, 0x06] + uleb(huge) + [0x0a, 0x07, 0x00]))
        inputs.append(("sync state 2^62 heads", [0x43] + uleb(huge)))
        return inputs
    }()

    @Test func hostileLengthsFailFast() {
        let clock = ContinuousClock()
        for (label, bytes) in Self.hostileInputs {
            let elapsed = clock.measure {
                var graph = ChangeGraph()
                #expect(throws: AutomergeError.self, "\(label): load") { try graph.load(bytes, limits: Self.limits) }
                #expect(graph.count == 0)
                var tally = Tally()
                Self.exercise(bytes, base: Self.builtBase(), tally: &tally)
                #expect(tally.accepted["load", default: 0] == 0, "\(label)")
            }
            #expect(elapsed < .seconds(2), "\(label) took \(elapsed)")
        }
        // The sync inputs are rejected by the sync decoders specifically.
        for (label, bytes) in Self.hostileInputs where label.hasPrefix("sync heads") || label.hasPrefix("sync c") || label.hasPrefix("sync b") {
            #expect(throws: AutomergeError.self, "\(label)") { try SyncMessage.decode(bytes) }
        }
        #expect(throws: AutomergeError.self) { try SyncState(decoding: [0x43] + Self.uleb(1 << 62)) }
    }

    /// Regression: an empty change with startOp 0 made `maxOp` (startOp + 0 − 1) trap while
    /// loading. The reference refuses startOp 0 when it parses the header.
    @Test func startOpZeroIsRejected() throws {
        for ops in [[UInt8](), Self.columns([(0x15, [0x7f, 0x01, 0x61]), (0x42, [0x7f, 0x01]), (0x56, [0x7f, 0x00])])] {
            let body: [UInt8] = [0x00, 0x01, 0xaa, 0x01, 0x00, 0x00, 0x00, 0x00] + (ops.isEmpty ? [0x00] : ops)
            let chunk = ChangeChunk(body: body)
            #expect(throws: AutomergeError.self) { try Change(chunk: chunk) }
            #expect(throws: AutomergeError.self) { try ChangeMetadata(chunk: chunk) }
            for validation in [ChangeValidation.full, .metadata] {
                var graph = ChangeGraph()
                #expect(throws: AutomergeError.self) { try graph.load(chunk.bytes, validation: validation) }
                #expect(throws: AutomergeError.self) { try graph.add([chunk], validation: validation) }
                #expect(graph.count == 0)
            }
        }
        // startOp 1 with the same layout is fine, so the rejection is about the zero.
        let valid = ChangeChunk(body: [0x00, 0x01, 0xaa, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00])
        #expect(try Change(chunk: valid).maxOp == 0)
    }

    /// A document larger than the limits is refused as a whole, in bounded time, and leaves
    /// the graph untouched; within the limits it loads.
    @Test(.needsFixtures) func documentLimitsAreEnforced() throws {
        let bytes = try Fixtures.bytes("generated/changes-1000.automerge")
        let clock = ContinuousClock()
        for limits in [DocumentLimits(maximumChanges: 999, maximumOps: 1 << 18), DocumentLimits(maximumChanges: 1 << 16, maximumOps: 10)] {
            var empty = ChangeGraph()
            let elapsed = try clock.measure {
                #expect(throws: AutomergeError.self) { try empty.load(bytes, limits: limits) }
                #expect(empty.count == 0 && empty.queuedCount == 0)
                let chunks = try ChunkReader.readAll(bytes)
                guard case .document(let document)? = chunks.first else {
                    Issue.record("not a document")
                    return
                }
                #expect(throws: AutomergeError.self) { try DocumentChunk(document).rebuildChanges(limits: limits) }
            }
            #expect(elapsed < .seconds(5))
            var base = Self.builtBase()
            let before = base
            #expect(throws: AutomergeError.self) { try base.load(bytes, limits: limits) }
            #expect(Self.same(base, before))
        }
        var graph = ChangeGraph()
        try graph.load(bytes, limits: Self.limits)
        #expect(graph.count == 1000)
    }

    @Test func hostileChangesFailInEveryDecoder() throws {
        for (label, bytes) in Self.hostileInputs {
            guard bytes.count > 8, bytes[8] == 0x01, case .change(let chunk)? = try? ChunkReader.readAll(bytes).first else { continue }
            #expect(throws: AutomergeError.self, "\(label): Change") { try Change(chunk: chunk) }
            var graph = ChangeGraph()
            #expect(throws: AutomergeError.self, "\(label): add") { try graph.add(chunk) }
        }
    }
}
