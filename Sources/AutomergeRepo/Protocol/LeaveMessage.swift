/// `leave`: sent by 1.x clients before they disconnect.
public struct LeaveMessage: Hashable, Sendable {
    public var senderId: String

    public init(senderId: String) { self.senderId = senderId }

    init(fields: MessageFields) throws(RepoMessageError) {
        senderId = try fields.text("senderId")
    }

    var entries: [CBORMapEntry] {
        [CBORMapEntry("type", .text(RepoMessage.Kind.leave.rawValue)), CBORMapEntry("senderId", .text(senderId))]
    }
}
