/// `error`: the sender closes the connection afterwards.
///
/// The protocol README and samod send only `{type, message}`; the JS server adds `senderId` and `targetId`.
package struct RepoErrorMessage: Hashable, Sendable {
    package var senderId: String?
    package var message: String
    package var targetId: String?

    package init(senderId: String?, message: String, targetId: String?) {
        self.senderId = senderId
        self.message = message
        self.targetId = targetId
    }

    init(fields: MessageFields) throws(RepoMessageError) {
        senderId = try fields.optionalText("senderId")
        message = try fields.text("message")
        targetId = try fields.optionalText("targetId")
    }

    /// Reference server order: type, senderId, message, targetId; absent ids are omitted (README form).
    var entries: [CBORMapEntry] {
        var entries = [CBORMapEntry("type", .text(RepoMessage.Kind.error.rawValue))]
        if let senderId { entries.append(CBORMapEntry("senderId", .text(senderId))) }
        entries.append(CBORMapEntry("message", .text(message)))
        if let targetId { entries.append(CBORMapEntry("targetId", .text(targetId))) }
        return entries
    }
}
