/// Which documents a repo offers to peers that did not ask for them.
package enum SharePolicy: Sendable {
    /// Offer every document loaded in memory to every peer when it connects, as the original
    /// Groundmist server did (its clients rely on it).
    case announceLoaded
    /// Answer requests only: a peer gets a document when it asks for it by id, as the reference
    /// automerge-repo sync server does.
    case requestsOnly
}
