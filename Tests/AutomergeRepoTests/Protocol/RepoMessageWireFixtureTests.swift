import AutomergeCore
import ByteEncodings
import TestSupport
import Testing

@testable import AutomergeRepo

/// The protocol layer against every captured frame.
@Suite(.enabled(if: Fixtures.wireAvailable, Fixtures.skipMessage))
struct RepoMessageWireFixtureTests {
    private let cborX = CBOREncoder(mapHeaderStyle: .cborX)

    @Test func everyFrameDecodesToItsType() throws {
        var seenTypes = Set<String>()
        for frame in try Fixtures.wireFrames() {
            let message = try RepoMessage(decoding: frame.bytes)
            guard case .string(let type)? = frame.decoded["type"] else {
                Issue.record("\(frame.file)#\(frame.seq) has no type")
                continue
            }
            #expect(message.type == type, "\(frame.file)#\(frame.seq)")
            if case .string(let sender)? = frame.decoded["senderId"] { #expect(message.senderId == sender) }
            if RepoMessage.Kind(rawValue: type) == nil {
                guard case .unknown = message else {
                    Issue.record("\(type) should decode as unknown")
                    continue
                }
            }
            seenTypes.insert(type)
        }
        // Every type the captures contain (the server never sends request, and no client sent error).
        #expect(
            seenTypes
                == [
                    "join", "peer", "leave", "error", "sync", "request", "doc-unavailable", "ephemeral", "remote-subscription-change",
                    "remote-heads-changed", "unknown-type",
                ]
        )
    }

    /// What the server sends must be what the reference server sends: re-encoding every `s2c` frame from
    /// its decoded message with cbor-x map heads gives the captured bytes exactly.
    @Test func serverFramesReencodeByteForByte() throws {
        var count = 0
        for frame in try Fixtures.wireFrames() where frame.direction == "s2c" {
            let message = try RepoMessage(decoding: frame.bytes)
            #expect(Hex.encode(message.encoded(with: cborX)) == Hex.encode(frame.bytes), "\(frame.file)#\(frame.seq) \(message.type)")
            // The default (shortest heads) form carries the same message.
            #expect(try RepoMessage(decoding: message.encoded()) == message)
            count += 1
        }
        #expect(count >= 100)
    }

    /// Client frames re-encode exactly too, except where our model deliberately normalises (listed here).
    @Test func clientFramesReencodeExceptDocumentedCases() throws {
        for frame in try Fixtures.wireFrames() where frame.direction == "c2s" {
            let message = try RepoMessage(decoding: frame.bytes)
            let encoded = message.encoded(with: cborX)
            #expect(try RepoMessage(decoding: encoded) == message)
            guard encoded != frame.bytes else { continue }
            switch message {
            case .request:
                // raw-probes' hand-built requests put senderId second; we write the JS Repo's order.
                #expect(frame.file == "raw-probes.jsonl", "\(frame.file)#\(frame.seq)")
            case .join(let join):
                // `peerMetadata {isEphemeral}` without storageId: we always write the storageId key (as undefined).
                #expect(frame.file == "raw-probes.jsonl" && join.peerMetadata?.storageId == nil, "\(frame.file)#\(frame.seq)")
            default:
                Issue.record("\(frame.file)#\(frame.seq) \(message.type) re-encodes differently")
            }
        }
    }

    @Test func handshakeFieldsFromCaptures() throws {
        let frames = try Fixtures.wireFrames()
        let connect = frames.filter { $0.file == "connect.jsonl" }
        guard case .join(let join) = try RepoMessage(decoding: connect[0].bytes) else {
            Issue.record("first frame is not join")
            return
        }
        #expect(join.senderId == "client-A")
        #expect(join.peerMetadata == PeerMetadata(storageId: nil, isEphemeral: true))
        #expect(join.supportedProtocolVersions == ["1"])
        guard case .peer(let peer) = try RepoMessage(decoding: connect[1].bytes) else {
            Issue.record("second frame is not peer")
            return
        }
        #expect(peer.senderId == "js-sync-server")
        #expect(peer.targetId == "client-A")
        #expect(peer.peerMetadata.isEphemeral == false)
        #expect(peer.peerMetadata.storageId?.count == 36)
        // Built from scratch, the server's reply is byte-identical to the reference server's.
        let built = RepoMessage.peer(
            PeerMessage(senderId: "js-sync-server", peerMetadata: peer.peerMetadata, selectedProtocolVersion: "1", targetId: "client-A")
        )
        #expect(built.encoded(with: cborX) == connect[1].bytes)

        let bad = frames.filter { $0.file == "bad-protocol-version.jsonl" }
        guard case .join(let badJoin) = try RepoMessage(decoding: bad[0].bytes) else {
            Issue.record("not a join")
            return
        }
        #expect(!badJoin.supports(version: "1"))
        let error = RepoMessage.error(RepoErrorMessage(senderId: "js-sync-server", message: "unsupported protocol version", targetId: "raw-client"))
        #expect(error.encoded(with: cborX) == bad[1].bytes)

        let legacy = try #require(frames.first { $0.file == "raw-probes.jsonl" && $0.seq == 6 })
        guard case .join(let legacyJoin) = try RepoMessage(decoding: legacy.bytes) else {
            Issue.record("not a join")
            return
        }
        #expect(legacyJoin.peerMetadata == nil)
        #expect(legacyJoin.supportedProtocolVersions == nil)
        #expect(legacyJoin.supports(version: "1"))
    }

    @Test func gossipFromCaptures() throws {
        var sawUndefinedRemove = false
        var sawFloatTimestamp = false
        for frame in try Fixtures.wireFrames() {
            switch try RepoMessage(decoding: frame.bytes) {
            case .remoteSubscriptionChange(let change):
                #expect(change.add != nil)
                if change.remove == nil, case .string("<undefined>")? = frame.decoded["remove"] { sawUndefinedRemove = true }
            case .remoteHeadsChanged(let changed):
                #expect(!changed.newHeads.isEmpty)
                for entry in changed.newHeads {
                    #expect(entry.timestamp > 1_700_000_000_000)
                    #expect(entry.timestamp.rounded() == entry.timestamp)
                    sawFloatTimestamp = true
                }
            default: continue
            }
        }
        #expect(sawUndefinedRemove)
        #expect(sawFloatTimestamp)
    }

    /// Thousands of corrupted frames through the whole protocol decoder: typed errors only.
    @Test func mutatedFramesGiveTypedErrors() throws {
        let frames = try Fixtures.wireFrames()
        var rng = SplitMix64(seed: 0x7265_706f)
        var decodedCount = 0
        var errors = 0
        for _ in 0..<20 {
            for frame in frames {
                do {
                    let message = try RepoMessage(decoding: mutate(frame.bytes, using: &rng))
                    decodedCount += 1
                    #expect(try RepoMessage(decoding: message.encoded()) == message)
                } catch {
                    errors += 1
                    #expect(!error.description.isEmpty)
                }
            }
        }
        #expect(decodedCount + errors == frames.count * 20)
        #expect(errors > 0)
    }
}
