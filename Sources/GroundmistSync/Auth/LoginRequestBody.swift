import ATProto
import AutomergeRepo
import Foundation

/// The body of `/authenticate`: `{lexiconAuthorityDomain, rootDocUrl}`.
struct LoginRequestBody {
    let group: NamespacePrefix
    let rootDocUrl: AutomergeURL?

    init(_ bytes: [UInt8]) throws(LoginBodyError) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
            throw LoginBodyError("the body must be a JSON object {\"lexiconAuthorityDomain\", \"rootDocUrl\"}")
        }
        guard let domain = object["lexiconAuthorityDomain"] as? String else {
            throw LoginBodyError("lexiconAuthorityDomain is required: the app's namespace, e.g. xyz.groundmist.library")
        }
        do {
            group = try NamespacePrefix(domain)
        } catch {
            throw LoginBodyError("lexiconAuthorityDomain is not a namespace prefix: \(error.reason)")
        }
        switch object["rootDocUrl"] {
        case .none, is NSNull:
            rootDocUrl = nil
        case let text as String where text.isEmpty:
            rootDocUrl = nil
        case let text as String:
            guard let url = try? AutomergeURL(text) else { throw LoginBodyError("rootDocUrl must be an automerge: URL or null") }
            rootDocUrl = url
        default:
            throw LoginBodyError("rootDocUrl must be an automerge: URL or null")
        }
    }
}

/// What the server knows of a login's client besides its credentials (unverified).
struct LoginClient {
    var userAgent: String?
    var remoteAddress: String?
}

struct LoginBodyError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
