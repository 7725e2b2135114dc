/// A joined peer as the documents see it: where to send, and what it told us in `join`.
package struct PeerLink: Sendable {
    package let peerId: String
    package let connectionId: RepoConnectionID
    package let connection: any RepoConnection
    /// The peer's storage id, when it has storage and is not ephemeral: sync states are
    /// persisted under it.
    package let storageId: String?
    package let isEphemeral: Bool

    /// Where this peer's sync states persist, if anywhere.
    var persistentStorageId: String? {
        guard !isEphemeral, let storageId, !storageId.isEmpty else { return nil }
        return storageId
    }
}
