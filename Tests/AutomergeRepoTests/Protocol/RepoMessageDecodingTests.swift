import AutomergeCore
import Testing

@testable import AutomergeRepo

/// The acceptance rules of docs/repo-protocol.md §1.2 / §2.1, independent of the fixtures.
@Suite struct RepoMessageDecodingTests {
    private func decode(_ entries: [CBORMapEntry]) throws(RepoMessageError) -> RepoMessage {
        try RepoMessage(decoding: CBOREncoder(mapHeaderStyle: .cborX).encode(.map(entries)))
    }

    private let syncFields: [CBORMapEntry] = [
        CBORMapEntry("type", .text("sync")), CBORMapEntry("senderId", .text("a")), CBORMapEntry("targetId", .text("b")),
        CBORMapEntry("documentId", .text("4NMNnkMhL8jXrdJ9jamS58PAVdXu")), CBORMapEntry("data", .bytes([0x42, 0])),
    ]

    @Test func syncAndRequestShareFields() throws {
        let sync = try decode(syncFields)
        let expected = DocumentSyncMessage(senderId: "a", targetId: "b", documentId: "4NMNnkMhL8jXrdJ9jamS58PAVdXu", data: [0x42, 0])
        #expect(sync == .sync(expected))
        var requestFields = syncFields
        requestFields[0] = CBORMapEntry("type", .text("request"))
        #expect(try decode(requestFields) == .request(expected))
    }

    @Test func missingRequiredFieldsAreTypedErrors() {
        for (index, field) in ["senderId", "targetId", "documentId", "data"].enumerated() {
            var fields = syncFields
            fields.remove(at: index + 1)
            #expect(throws: RepoMessageError.missingField(messageType: "sync", field: field)) { try decode(fields) }
            // `undefined` and `null` mean absent too.
            fields.append(CBORMapEntry(field, .undefined))
            #expect(throws: RepoMessageError.missingField(messageType: "sync", field: field)) { try decode(fields) }
            fields[fields.count - 1] = CBORMapEntry(field, .null)
            #expect(throws: RepoMessageError.missingField(messageType: "sync", field: field)) { try decode(fields) }
        }
    }

    @Test func wrongFieldTypes() {
        var fields = syncFields
        fields[4] = CBORMapEntry("data", .array([.unsigned(0x42)]))
        #expect(throws: RepoMessageError.wrongFieldType(messageType: "sync", field: "data", expected: "a byte string", found: "array")) {
            try decode(fields)
        }
        fields = syncFields
        fields[3] = CBORMapEntry("documentId", .bytes([1, 2]))
        #expect(throws: RepoMessageError.wrongFieldType(messageType: "sync", field: "documentId", expected: "a text string", found: "byte string")) {
            try decode(fields)
        }
    }

    @Test func unknownKeysAreIgnored() throws {
        let fields = syncFields + [CBORMapEntry("extra", .map([])), CBORMapEntry(key: .unsigned(7), value: .text("x"))]
        #expect(try decode(fields) == decode(syncFields))
    }

    @Test func notAMessage() {
        #expect(throws: RepoMessageError.notAMap(found: "array")) { try RepoMessage(decoding: [0x80]) }
        #expect(throws: RepoMessageError.missingType) { try decode([CBORMapEntry("senderId", .text("a"))]) }
        #expect(throws: RepoMessageError.missingType) { try decode([CBORMapEntry("type", .unsigned(1))]) }
        #expect(throws: RepoMessageError.cbor(.trailingBytes(offset: 1, count: 1))) { try RepoMessage(decoding: [0xa0, 0x00]) }
        #expect(RepoMessageError.missingField(messageType: "sync", field: "data").description.contains("\"data\""))
        #expect(RepoMessageError.missingField(messageType: "remote-heads-changed", field: "newHeads").messageType == "remote-heads-changed")
    }

    @Test func unknownTypesKeepTheirMap() throws {
        let entries = [CBORMapEntry("type", .text("future-thing")), CBORMapEntry("senderId", .text("p")), CBORMapEntry("foo", .unsigned(1))]
        let message = try decode(entries)
        #expect(message == .unknown(type: "future-thing", entries: entries))
        #expect(message.senderId == "p")
        #expect(message.cbor == .map(entries))
    }

    @Test func joinProtocolVersionShapes() throws {
        let base = [CBORMapEntry("type", .text("join")), CBORMapEntry("senderId", .text("c"))]
        func join(_ extra: [CBORMapEntry]) throws -> JoinMessage {
            guard case .join(let join) = try decode(base + extra) else { throw FixtureError(description: "not a join") }
            return join
        }
        #expect(try join([CBORMapEntry("supportedProtocolVersions", .array([.text("1")]))]).supportedProtocolVersions == ["1"])
        // automerge-repo-swift sends a bare string.
        #expect(try join([CBORMapEntry("supportedProtocolVersions", .text("1"))]).supports(version: "1"))
        #expect(try join([]).supportedProtocolVersions == nil)
        #expect(try join([]).supports(version: "1"))
        #expect(try !join([]).supports(version: "2"))
        #expect(try join([CBORMapEntry("supportedProtocolVersions", .undefined)]).supports(version: "1"))
        #expect(try !join([CBORMapEntry("supportedProtocolVersions", .array([.text("999")]))]).supports(version: "1"))
        #expect(throws: RepoMessageError.self) { try join([CBORMapEntry("supportedProtocolVersions", .unsigned(1))]) }
        #expect(throws: RepoMessageError.self) { try join([CBORMapEntry("supportedProtocolVersions", .array([.unsigned(1)]))]) }
    }

    @Test func peerMetadataVariants() throws {
        let base = [CBORMapEntry("type", .text("join")), CBORMapEntry("senderId", .text("c"))]
        func metadata(_ extra: [CBORMapEntry]) throws -> PeerMetadata? {
            guard case .join(let join) = try decode(base + extra) else { throw FixtureError(description: "not a join") }
            return join.peerMetadata
        }
        #expect(try metadata([CBORMapEntry("peerMetadata", .map([]))]) == PeerMetadata(storageId: nil, isEphemeral: false))
        #expect(
            try metadata([CBORMapEntry("peerMetadata", .map([CBORMapEntry("storageId", .text("s")), CBORMapEntry("isEphemeral", .bool(false))]))])
                == PeerMetadata(storageId: "s", isEphemeral: false)
        )
        #expect(try metadata([CBORMapEntry("peerMetadata", .map([CBORMapEntry("storageId", .null)]))])?.storageId == nil)
        // The protocol README's key name.
        #expect(try metadata([CBORMapEntry("metadata", .map([CBORMapEntry("isEphemeral", .bool(true))]))])?.isEphemeral == true)
        #expect(try metadata([]) == nil)
        #expect(throws: RepoMessageError.self) { try metadata([CBORMapEntry("peerMetadata", .text("x"))]) }
        #expect(throws: RepoMessageError.self) { try metadata([CBORMapEntry("peerMetadata", .map([CBORMapEntry("isEphemeral", .text("no"))]))]) }
    }

    @Test func numbersAsIntegersOrFloats() throws {
        let base = [
            CBORMapEntry("type", .text("ephemeral")), CBORMapEntry("senderId", .text("a")), CBORMapEntry("targetId", .text("b")),
            CBORMapEntry("documentId", .text("d")), CBORMapEntry("sessionId", .text("s")), CBORMapEntry("data", .bytes([0xa0])),
        ]
        func count(_ value: CBORValue) throws -> UInt64 {
            guard case .ephemeral(let message) = try decode(base + [CBORMapEntry("count", value)]) else {
                throw FixtureError(description: "not ephemeral")
            }
            return message.count
        }
        #expect(try count(.unsigned(7)) == 7)
        #expect(try count(.float64(7)) == 7)
        #expect(try count(.float64(5_000_000_000)) == 5_000_000_000)
        #expect(try count(.float16(bits: 0x4700)) == 7)
        #expect(throws: RepoMessageError.invalidNumber(messageType: "ephemeral", field: "count")) { try count(.float64(1.5)) }
        #expect(throws: RepoMessageError.invalidNumber(messageType: "ephemeral", field: "count")) { try count(.negative(0)) }
        #expect(throws: RepoMessageError.invalidNumber(messageType: "ephemeral", field: "count")) { try count(.float64(.nan)) }
        #expect(throws: RepoMessageError.self) { try count(.text("7")) }

        let heads = [
            CBORMapEntry("type", .text("remote-heads-changed")), CBORMapEntry("senderId", .text("a")), CBORMapEntry("targetId", .text("b")),
            CBORMapEntry("documentId", .text("d")),
        ]
        func timestamp(_ value: CBORValue) throws -> Double? {
            let newHeads = CBORValue.map([CBORMapEntry("sid", .map([CBORMapEntry("heads", .array([])), CBORMapEntry("timestamp", value)]))])
            guard case .remoteHeadsChanged(let message) = try decode(heads + [CBORMapEntry("newHeads", newHeads)]) else { return nil }
            return message.newHeads.first?.timestamp
        }
        #expect(try timestamp(.float64(1_752_000_000_123)) == 1_752_000_000_123)
        #expect(try timestamp(.unsigned(1_752_000_000_123)) == 1_752_000_000_123)
        #expect(throws: RepoMessageError.self) { try timestamp(.text("now")) }
        #expect(throws: RepoMessageError.invalidNumber(messageType: "remote-heads-changed", field: "timestamp")) {
            try timestamp(.float64(.infinity))
        }
    }

    @Test func subscriptionListsAreOptional() throws {
        let base = [
            CBORMapEntry("type", .text("remote-subscription-change")), CBORMapEntry("senderId", .text("a")), CBORMapEntry("targetId", .text("b")),
        ]
        let message = try decode(base + [CBORMapEntry("add", .array([.text("s1")])), CBORMapEntry("remove", .undefined)])
        #expect(message == .remoteSubscriptionChange(RemoteSubscriptionChangeMessage(senderId: "a", targetId: "b", add: ["s1"], remove: nil)))
        #expect(try decode(base) == .remoteSubscriptionChange(RemoteSubscriptionChangeMessage(senderId: "a", targetId: "b", add: nil, remove: nil)))
    }

    @Test func errorInBothForms() throws {
        #expect(
            try decode([CBORMapEntry("type", .text("error")), CBORMapEntry("message", .text("boom"))])
                == .error(RepoErrorMessage(senderId: nil, message: "boom", targetId: nil))
        )
        #expect(throws: RepoMessageError.missingField(messageType: "error", field: "message")) { try decode([CBORMapEntry("type", .text("error"))]) }
        // The README form re-encodes without the id keys.
        #expect(RepoMessage.error(RepoErrorMessage(senderId: nil, message: "x", targetId: nil)).cbor.mapEntries?.count == 2)
    }

    /// The spec's `join` vector, built from the model.
    @Test func encodesTheSpecJoinVector() throws {
        let join = RepoMessage.join(
            JoinMessage(senderId: "peer-abc", peerMetadata: PeerMetadata(storageId: nil, isEphemeral: true), supportedProtocolVersions: ["1"])
        )
        let expected =
            "b90004" + "6474797065646a6f696e" + "6873656e646572496468706565722d616263" + "6c706565724d65746164617461"
            + "b90002" + "6973746f726167654964f7" + "6b6973457068656d6572616cf5"
            + "7819737570706f7274656450726f746f636f6c56657273696f6e73816131"
        #expect(hexEncode(join.encoded(with: CBOREncoder(mapHeaderStyle: .cborX))) == expected)
        #expect(join.encoded().first == 0xa4)
        #expect(try RepoMessage(decoding: join.encoded()) == join)
    }

    /// Timestamps and large counts go out as float64, never as 64-bit integers that cbor-x would turn into BigInt.
    @Test func neverEmits64BitIntegers() throws {
        let heads = RepoMessage.remoteHeadsChanged(
            RemoteHeadsChangedMessage(
                senderId: "s",
                targetId: "t",
                documentId: "d",
                newHeads: [.init(storageId: "sid", heads: ["h"], timestamp: 1_752_000_000_123)]
            )
        )
        let bytes = heads.encoded()
        #expect(hexEncode(bytes).contains("fb42797eb56707b000"))
        let ephemeral = RepoMessage.ephemeral(
            EphemeralMessage(senderId: "a", targetId: "b", documentId: "d", count: 1 << 40, sessionId: "s", data: [0xa0])
        )
        #expect(!ephemeral.encoded().contains(0x1b))
        #expect(try RepoMessage(decoding: ephemeral.encoded()) == ephemeral)
    }
}

@Suite struct RepoMessageAccessorTests {
    @Test func routingFields() throws {
        let sync = RepoMessage.sync(DocumentSyncMessage(senderId: "a", targetId: "b", documentId: "4NMNnkMhL8jXrdJ9jamS58PAVdXu", data: [0x42]))
        #expect(sync.senderId == "a" && sync.targetId == "b" && sync.documentId == "4NMNnkMhL8jXrdJ9jamS58PAVdXu")
        let join = RepoMessage.join(JoinMessage(senderId: "c", peerMetadata: nil, supportedProtocolVersions: nil))
        #expect(join.targetId == nil && join.documentId == nil && join.type == "join")
        let unknown = RepoMessage.unknown(type: "x", entries: [CBORMapEntry("type", .text("x")), CBORMapEntry("targetId", .text("t"))])
        #expect(unknown.targetId == "t" && unknown.senderId == nil)
        #expect(RepoMessage.Kind.allCases.count == 10)
    }
}
