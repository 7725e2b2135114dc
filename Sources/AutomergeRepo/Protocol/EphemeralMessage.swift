/// `ephemeral`: an application payload (presence, cursors) broadcast to a document's peers.
///
/// A relaying server keeps every field but `targetId` exactly as received, and de-duplicates on
/// (senderId, sessionId, count): JS clients echo what they receive back to the server.
package struct EphemeralMessage: Hashable, Sendable {
    package var senderId: String
    package var targetId: String
    package var documentId: String
    /// Per-session counter; arrives as an unsigned integer (or a float, were it ever above 32 bits).
    package var count: UInt64
    package var sessionId: String
    /// The payload, itself CBOR encoded by the sender; a relay need not decode it.
    package var data: [UInt8] {
        get { payload.bytes }
        set { payload = MessagePayload(newValue) }
    }
    /// The payload as received: a large one stays in the frame it came in (see
    /// `RepoMessage.init(decoding:)` for a `ByteBuffer`), so a message nobody is sent costs no copy.
    var payload: MessagePayload

    package init(senderId: String, targetId: String, documentId: String, count: UInt64, sessionId: String, data: [UInt8]) {
        self.senderId = senderId
        self.targetId = targetId
        self.documentId = documentId
        self.count = count
        self.sessionId = sessionId
        self.payload = MessagePayload(data)
    }

    init(fields: MessageFields) throws(RepoMessageError) {
        senderId = try fields.text("senderId")
        targetId = try fields.text("targetId")
        documentId = try fields.text("documentId")
        count = try fields.count("count")
        sessionId = try fields.text("sessionId")
        payload = MessagePayload(try fields.bytes("data"))
    }

    /// Reference order: type, targetId, documentId, data, count, sessionId, senderId.
    var entries: [CBORMapEntry] {
        [
            CBORMapEntry("type", .text(RepoMessage.Kind.ephemeral.rawValue)),
            CBORMapEntry("targetId", .text(targetId)),
            CBORMapEntry("documentId", .text(documentId)),
            CBORMapEntry("data", .bytes(data)),
            CBORMapEntry("count", .unsigned(count)),
            CBORMapEntry("sessionId", .text(sessionId)),
            CBORMapEntry("senderId", .text(senderId)),
        ]
    }
}
