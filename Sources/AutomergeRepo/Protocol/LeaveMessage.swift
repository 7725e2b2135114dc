/// `leave`: sent by 1.x clients before they disconnect.
package struct LeaveMessage: Hashable, Sendable {
    package var senderId: String

    package init(senderId: String) { self.senderId = senderId }

    init(fields: MessageFields) throws(RepoMessageError) {
        senderId = try fields.text("senderId")
    }

    var entries: [CBORMapEntry] {
        [CBORMapEntry("type", .text(RepoMessage.Kind.leave.rawValue)), CBORMapEntry("senderId", .text(senderId))]
    }
}
