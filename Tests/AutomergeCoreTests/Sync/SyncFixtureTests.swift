import ByteEncodings
import Crypto
import Foundation
import Testing

@testable import AutomergeCore

/// The recorded JS messages and states in ../shared/fixtures/automerge/sync and the upstream
/// slowSyncMessage: decode → fields equal the JS `decoded` view → encode reproduces the bytes.
@Suite(.enabled(if: SyncFixtures.available, "shared fixtures not found at ../shared/fixtures/automerge"))
struct SyncFixtureTests {
    /// The change hash of the chunk starting at `start`: SHA-256 over type ‖ length ‖ body,
    /// i.e. everything after the magic and checksum. Returns the hash and the chunk's end.
    static func chunkHash(_ bytes: [UInt8], at start: Int) throws -> (hash: ChangeHash, end: Int) {
        var reader = ByteReader(bytes, range: start..<bytes.count)
        let magic = try reader.readBytes(4, "magic")
        try #require(magic == [0x85, 0x6f, 0x4a, 0x83])
        _ = try reader.readBytes(4, "checksum")
        _ = try reader.readByte("chunk type")
        let length = try reader.readCount("chunk length")
        let body = try reader.readRange(length, "chunk body")
        let digest = SHA256.hash(data: bytes[(start + 8)..<body.upperBound])
        let hash = try #require(ChangeHash(bytes: Array(digest)))
        return (hash, body.upperBound)
    }

    static func check(_ named: SyncFixtures.NamedMessage) throws {
        let recorded = named.message
        let bytes = try SyncFixtures.hex(recorded.hex)
        if let binary = named.binary { #expect(binary == bytes, "\(named.name): .bin differs from hex") }
        #expect(bytes.count == recorded.annotations.bytes)

        let message = try SyncMessage.decode(bytes)
        let decoded = recorded.decoded
        #expect(message.version == (decoded.type == "v2" ? .v2 : .v1), "\(named.name)")
        #expect(Hex.encode([message.version.rawValue]) == recorded.annotations.firstByte)
        #expect(message.heads == (try SyncFixtures.hashes(decoded.heads)), "\(named.name)")
        #expect(message.need == (try SyncFixtures.hashes(decoded.need)), "\(named.name)")
        #expect(message.have.count == decoded.have.count, "\(named.name)")
        for (have, expected) in zip(message.have, decoded.have) {
            #expect(have.lastSync == (try SyncFixtures.hashes(expected.lastSync)), "\(named.name)")
            #expect(Hex.encode(have.bloom.bytes) == expected.bloom, "\(named.name)")
        }
        #expect(message.changes.map { Hex.encode($0) } == decoded.changes, "\(named.name)")

        // The filter covers every change that is not an ancestor of lastSync, so each head not
        // in lastSync must test positive (and an empty filter means the heads are lastSync).
        for have in message.have {
            for head in message.heads where !have.lastSync.contains(head) {
                #expect(have.bloom.contains(head), "\(named.name): head \(head) missing from the Bloom filter")
            }
        }

        // The trailer: present exactly when JS reported capabilities, and byte-identical.
        #expect((message.trailer != nil) == (decoded.supportedCapabilities != nil), "\(named.name)")
        #expect(Hex.encode(message.trailer?.rawBytes ?? []) == recorded.annotations.trailerHex, "\(named.name)")
        if let capabilities = decoded.supportedCapabilities {
            let names = (message.trailer?.legacyCapabilityCodes ?? []).map { $0 == 1 ? "message-v1" : $0 == 2 ? "message-v2" : "?" }
            #expect(names == capabilities, "\(named.name)")
            #expect(message.senderSupportsV2)
        }

        // Change chunks hash to what the annotations say.
        #expect(message.changes.count == recorded.annotations.changes.count)
        for (entry, annotation) in zip(message.changes, recorded.annotations.changes) {
            guard annotation.chunkType == 1, let expected = annotation.hash else { continue }
            let (hash, end) = try chunkHash(entry, at: 0)
            #expect(hash.hex == expected, "\(named.name)")
            #expect(end == entry.count, "\(named.name): a V1 entry is one chunk")
        }

        #expect(message.encode() == bytes, "\(named.name): re-encoding differs")
    }

    @Test func everyStandaloneMessage() throws {
        let messages = try SyncFixtures.messages()
        #expect(messages.count >= 9)
        #expect(messages.allSatisfy { $0.binary != nil })
        for named in messages { try Self.check(named) }
    }

    @Test func everyConversationMessage() throws {
        let conversations = try SyncFixtures.conversations()
        #expect(conversations.count >= 14)
        var count = 0
        for conversation in conversations {
            for (index, message) in conversation.messages.enumerated() {
                try Self.check(.init(name: "\(conversation.name)#\(index)", message: message, binary: nil))
                count += 1
            }
        }
        #expect(count > 40)
    }

    @Test func everySyncStateFile() throws {
        let states = try SyncFixtures.syncStates()
        #expect(states.count >= 4)
        for (state, binary) in states {
            let bytes = try SyncFixtures.hex(state.hex)
            if let binary { #expect(binary == bytes, "\(state.name)") }
            let heads = try SyncStateCodec.decode(bytes)
            #expect(heads == (try SyncFixtures.hashes(state.decodeSyncState.sharedHeads)), "\(state.name)")
            #expect(SyncStateCodec.encode(sharedHeads: heads) == bytes, "\(state.name)")
        }
    }

    @Test func conversationFinalSyncStates() throws {
        for conversation in try SyncFixtures.conversations() {
            for side in [conversation.final.a, conversation.final.b] {
                guard let hex = side.syncState else { continue }
                let bytes = try SyncFixtures.hex(hex)
                let heads = try SyncStateCodec.decode(bytes)
                #expect(SyncStateCodec.encode(sharedHeads: heads) == bytes, "\(conversation.name)")
                #expect(heads == heads.sorted())
            }
        }
    }

    @Test(.enabled(if: SyncFixtures.slowSyncAvailable, "upstream/slowSyncMessage.amrgsync not found"))
    func slowSyncMessage() throws {
        let bytes = try SyncFixtures.bytes(SyncFixtures.slowSyncMessage)
        let meta = try SyncFixtures.json(
            SyncFixtures.SlowSyncMeta.self,
            SyncFixtures.slowSyncMessage.appendingPathExtension("meta.json")
        ).decodeSyncMessage

        let message = try SyncMessage.decode(bytes)
        #expect(message.version == .v1)
        #expect(message.trailer == nil)
        #expect(message.heads == (try SyncFixtures.hashes(meta.heads)))
        #expect(message.changes.count == 6_483)
        #expect(message.changes.count == meta.changeCount)
        try #require(message.have.count == 1)
        let bloom = message.have[0].bloom
        #expect(bloom.numEntries == 6_483)
        #expect(Hex.encode(bloom.bytes) == meta.have[0].bloom)

        let expected = try SyncFixtures.hashes(meta.changeHashes)
        try #require(expected.count == message.changes.count)
        var missing = 0
        for (entry, expectedHash) in zip(message.changes, expected) {
            let (hash, end) = try Self.chunkHash(entry, at: 0)
            #expect(end == entry.count)
            #expect(hash == expectedHash)
            if !bloom.contains(expectedHash) { missing += 1 }
        }
        #expect(missing == 0, "\(missing) change hashes not in the Bloom filter")
        // The sender's filter over the same hashes is what our writer builds too.
        #expect(BloomFilter(hashes: expected) == bloom)
        #expect(message.encode() == bytes)
    }
}
