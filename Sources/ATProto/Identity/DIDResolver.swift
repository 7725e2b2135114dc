/// Resolves a DID to its document. The seam between verification and the network.
package protocol DIDResolver: Sendable {
    /// - Parameter forceRefresh: bypass caches (after a signature failure, to pick up a rotated key).
    func resolve(_ did: DID, forceRefresh: Bool) async throws(DIDResolutionError) -> DIDDocument
}

/// Why a DID could not be resolved.
package enum DIDResolutionError: Error, Equatable, Sendable, CustomStringConvertible {
    case unsupportedMethod(String)
    case invalidDID(String)
    case notFound(DID)
    case httpStatus(Int)
    case transport(String)
    case responseTooLarge
    case invalidDocument(DIDDocument.ParseError)

    package var description: String {
        switch self {
        case .unsupportedMethod(let method): "DID method '\(method)' cannot be resolved"
        case .invalidDID(let reason): "DID cannot be resolved: \(reason)"
        case .notFound(let did): "DID \(did) is not registered (or deactivated)"
        case .httpStatus(let status): "DID resolution failed with HTTP status \(status)"
        case .transport(let reason): "DID resolution failed: \(reason)"
        case .responseTooLarge: "DID document response exceeds the size limit"
        case .invalidDocument(let error): "DID document is invalid: \(error)"
        }
    }
}
