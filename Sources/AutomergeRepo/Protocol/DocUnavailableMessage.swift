/// `doc-unavailable`: neither the sender nor any peer it asked has the document.
package struct DocUnavailableMessage: Hashable, Sendable {
    package var senderId: String
    package var targetId: String
    package var documentId: String

    package init(senderId: String, targetId: String, documentId: String) {
        self.senderId = senderId
        self.targetId = targetId
        self.documentId = documentId
    }

    init(fields: MessageFields) throws(RepoMessageError) {
        senderId = try fields.text("senderId")
        targetId = try fields.text("targetId")
        documentId = try fields.text("documentId")
    }

    /// Reference server order: type, documentId, targetId, senderId.
    var entries: [CBORMapEntry] {
        [
            CBORMapEntry("type", .text(RepoMessage.Kind.docUnavailable.rawValue)),
            CBORMapEntry("documentId", .text(documentId)),
            CBORMapEntry("targetId", .text(targetId)),
            CBORMapEntry("senderId", .text(senderId)),
        ]
    }
}
