import ByteEncodings
import Foundation
import Testing

@testable import AutomergeCore

@Suite(.needsFixtures) struct SyncConversationTests {
    static let names: [String] = {
        guard Fixtures.available, let index = try? Fixtures.json("sync/conversations/index.json"),
            let conversations = index["conversations"] as? [[String: Any]]
        else { return [] }
        return conversations.compactMap { $0["name"] as? String }
    }()

    static func graph(_ file: String) throws -> ChangeGraph {
        var graph = ChangeGraph()
        try graph.load(try Fixtures.bytes("sync/conversations/" + file))
        return graph
    }

    /// Two Swift peers starting from each scenario's documents (and persisted sync states)
    /// reach the heads the JavaScript peers reached.
    @Test(arguments: names)
    func swiftPeersConverge(name: String) throws {
        let conversation = try Fixtures.json("sync/conversations/\(name).json")
        let initial = try #require(conversation["initial"] as? [String: [String: Any]])
        let peers = try #require(conversation["peers"] as? [String: [String: Any]])
        let final = try #require(conversation["final"] as? [String: Any])
        let fileA = try #require(initial["a"]?["file"] as? String)
        let fileB = try #require(initial["b"]?["file"] as? String)
        var harness = SyncHarness(a: try Self.graph(fileA), b: try Self.graph(fileB))
        #expect(harness.a.heads.map(\.hex) == initial["a"]?["heads"] as? [String])
        if let state = initial["a"]?["syncState"] as? String, let bytes = Hex.decode(state) { harness.stateA = try SyncState(decoding: bytes) }
        if let state = initial["b"]?["syncState"] as? String, let bytes = Hex.decode(state) { harness.stateB = try SyncState(decoding: bytes) }
        harness.aIsV1Only = (peers["a"]?["sendsTrailer"] as? Bool) == false
        harness.bIsV1Only = (peers["b"]?["sendsTrailer"] as? Bool) == false

        let rounds = try harness.run()
        #expect(rounds != nil, "\(name): no convergence")
        let finalA = try #require(final["a"] as? [String: Any])
        let finalB = try #require(final["b"] as? [String: Any])
        #expect(harness.a.heads.map(\.hex) == finalA["heads"] as? [String])
        #expect(harness.b.heads.map(\.hex) == finalB["heads"] as? [String])
        #expect(harness.a.count == finalA["changes"] as? Int)
        #expect(harness.b.count == finalB["changes"] as? Int)
        #expect(Hex.encode(harness.stateA.encode()) == finalA["syncState"] as? String)
        #expect(Hex.encode(harness.stateB.encode()) == finalB["syncState"] as? String)
        // No change is ever sent twice to the same peer.
        for fromA in [true, false] {
            var seen: Set<ChangeHash> = []
            for (sender, message) in harness.messages where sender == fromA && message.version == .v1 {
                for entry in message.changes {
                    let chunk = try ChunkReader.readAll(entry)
                    for case .change(let change) in chunk { #expect(seen.insert(change.hash).inserted) }
                }
            }
        }
    }

    /// Replaying the JavaScript side A's messages into a Swift B, B answers with the same
    /// heads, need and have (Bloom filter bytes included) as the JavaScript B did.
    @Test(arguments: names)
    func swiftPeerAnswersLikeReference(name: String) throws {
        let conversation = try Fixtures.json("sync/conversations/\(name).json")
        let initial = try #require(conversation["initial"] as? [String: [String: Any]])
        let messages = try #require(conversation["messages"] as? [[String: Any]])
        let fileB = try #require(initial["b"]?["file"] as? String)
        var b = try Self.graph(fileB)
        var state = SyncState()
        if let encoded = initial["b"]?["syncState"] as? String, let bytes = Hex.decode(encoded) { state = try SyncState(decoding: bytes) }
        var compared = 0
        for (index, entry) in messages.enumerated() where entry["dir"] as? String == "a2b" {
            let hex = try #require(entry["hex"] as? String)
            let bytes = try #require(Hex.decode(hex))
            try b.receiveSyncMessage(&state, try SyncMessage.decode(bytes))
            guard index + 1 < messages.count, messages[index + 1]["dir"] as? String == "b2a",
                let replyHex = messages[index + 1]["hex"] as? String, let replyBytes = Hex.decode(replyHex)
            else { break }
            let expected = try SyncMessage.decode(replyBytes)
            let reply = try #require(b.generateSyncMessage(&state), "\(name): B is silent where the reference answered")
            #expect(reply.heads == expected.heads, "\(name) message \(index + 1): heads")
            #expect(reply.need == expected.need, "\(name) message \(index + 1): need")
            #expect(reply.have == expected.have, "\(name) message \(index + 1): have")
            compared += 1
            break  // Later replies depend on what this side sent, which legitimately differs.
        }
        let answered = messages.count >= 2 && messages[0]["dir"] as? String == "a2b" && messages[1]["dir"] as? String == "b2a"
        #expect(compared == (answered ? 1 : 0), "\(name): the reference's first reply was not compared")
    }
}
