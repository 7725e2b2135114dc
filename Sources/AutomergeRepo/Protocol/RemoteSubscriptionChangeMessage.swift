/// `remote-subscription-change`: remote-heads gossip subscriptions, keyed by storage id.
///
/// The README calls `remove` required; the JS code sends it as CBOR `undefined` in a subscribe-only
/// message (fixtures win), so both lists are optional.
package struct RemoteSubscriptionChangeMessage: Hashable, Sendable {
    package var senderId: String
    package var targetId: String
    package var add: [String]?
    package var remove: [String]?

    package init(senderId: String, targetId: String, add: [String]?, remove: [String]?) {
        self.senderId = senderId
        self.targetId = targetId
        self.add = add
        self.remove = remove
    }

    init(fields: MessageFields) throws(RepoMessageError) {
        senderId = try fields.text("senderId")
        targetId = try fields.text("targetId")
        add = try fields.optionalTextArray("add")
        remove = try fields.optionalTextArray("remove")
    }

    /// JS order: type, targetId, add, remove, senderId; a missing list is written as `undefined`, as cbor-x does.
    var entries: [CBORMapEntry] {
        [
            CBORMapEntry("type", .text(RepoMessage.Kind.remoteSubscriptionChange.rawValue)),
            CBORMapEntry("targetId", .text(targetId)),
            CBORMapEntry("add", add.map { .array($0.map(CBORValue.text)) } ?? .undefined),
            CBORMapEntry("remove", remove.map { .array($0.map(CBORValue.text)) } ?? .undefined),
            CBORMapEntry("senderId", .text(senderId)),
        ]
    }
}
