/// The payload of `sync` and `request`: Automerge sync-protocol bytes for one document.
///
/// `request` carries the same fields and additionally means "I do not have this document; tell me if
/// you do not either". `documentId` stays a string here; validate it with `DocumentId` before use.
package struct DocumentSyncMessage: Hashable, Sendable {
    package var senderId: String
    package var targetId: String
    package var documentId: String
    /// An Automerge sync message (first byte 0x42 for v1, 0x43 for v2).
    package var data: [UInt8]

    package init(senderId: String, targetId: String, documentId: String, data: [UInt8]) {
        self.senderId = senderId
        self.targetId = targetId
        self.documentId = documentId
        self.data = data
    }

    init(fields: MessageFields) throws(RepoMessageError) {
        senderId = try fields.text("senderId")
        targetId = try fields.text("targetId")
        documentId = try fields.text("documentId")
        data = try fields.bytes("data")
    }

    /// JS Repo order. `sync`: type, targetId, data, documentId, senderId (every `sync` in the captures);
    /// `request`: type, targetId, documentId, data, senderId (the JS client's `request`s).
    func entries(kind: RepoMessage.Kind) -> [CBORMapEntry] {
        let type = CBORMapEntry("type", .text(kind.rawValue))
        let target = CBORMapEntry("targetId", .text(targetId))
        let document = CBORMapEntry("documentId", .text(documentId))
        let payload = CBORMapEntry("data", .bytes(data))
        let sender = CBORMapEntry("senderId", .text(senderId))
        if kind == .request { return [type, target, document, payload, sender] }
        return [type, target, payload, document, sender]
    }
}
