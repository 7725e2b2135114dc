/// A resolver backed by a dictionary, for tests and for pinned (air-gapped) configurations.
///
/// `documentsAfterRefresh` lets tests model a key rotation: a forced refresh returns the new document.
package actor InMemoryDIDResolver: DIDResolver {
    private var documents: [DID: DIDDocument]
    private var documentsAfterRefresh: [DID: DIDDocument] = [:]
    /// How many resolutions were requested (tests assert that some paths never resolve).
    package private(set) var resolutionCount = 0
    package private(set) var forcedRefreshCount = 0

    package init(documents: [DIDDocument] = []) {
        self.documents = Dictionary(documents.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
    }

    package func set(_ document: DIDDocument) {
        documents[document.id] = document
    }

    /// The document a forced refresh returns (and keeps returning afterwards).
    package func setAfterRefresh(_ document: DIDDocument) {
        documentsAfterRefresh[document.id] = document
    }

    package func resolve(_ did: DID, forceRefresh: Bool) async throws(DIDResolutionError) -> DIDDocument {
        resolutionCount += 1
        if forceRefresh {
            forcedRefreshCount += 1
            if let refreshed = documentsAfterRefresh.removeValue(forKey: did) {
                documents[did] = refreshed
            }
        }
        guard let document = documents[did] else { throw .notFound(did) }
        return document
    }
}
