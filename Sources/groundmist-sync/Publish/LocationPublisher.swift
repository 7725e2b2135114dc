import ATProto
import Foundation
import GroundmistSync

/// Publishes where the personal sync server lives: the `xyz.groundmist.sync` record in the owner's
/// ATProto repo (rkey = the DID, body `{host}`), which the Groundmist apps read to find the server
/// (docs/auth.md §2.3).
///
/// The password is used for one `createSession` and never stored or printed.
struct LocationPublisher {
    static let collection = "xyz.groundmist.sync"

    let transport: any HTTPTransport
    /// PLC directory for `did:plc` documents.
    let plcURL: String
    /// An XRPC service for `com.atproto.identity.resolveHandle`; nil tries the handle's
    /// `https://<handle>/.well-known/atproto-did` first and then `defaultHandleResolver`.
    let handleResolver: String?

    static let defaultHandleResolver = "https://public.api.bsky.app"

    struct Published: Equatable {
        let did: String
        let pds: String
        let uri: String
        let cid: String
    }

    /// - Parameters:
    ///   - host: the server's host as the apps will use it (`sync.example.com` or `host:port`).
    ///   - identifier: a handle or DID.
    ///   - pds: the PDS URL; nil finds it in the DID document.
    func publish(host rawHost: String, identifier: String, password: String, pds: String?) async throws(PublishError) -> Published {
        let host = try Self.validatedHost(rawHost)
        var expectedDID: DID?
        let service: String
        if let pds {
            service = try Self.validatedServiceURL(pds)
        } else {
            let did = try await resolveDID(identifier)
            expectedDID = did
            service = try Self.validatedServiceURL(try await pdsEndpoint(of: did))
        }
        let client = XRPCClient(serviceURL: service, transport: transport)
        let session: XRPCClient.Session
        do {
            session = try await client.createSession(identifier: identifier, password: password)
        } catch {
            throw PublishError.login(pds: service, error)
        }
        let did: DID
        do {
            did = try DID(session.did)
        } catch {
            throw .unexpected("the PDS returned an invalid DID for the session")
        }
        if let expectedDID, expectedDID != did {
            throw .unexpected("the PDS logged in \(did), not \(expectedDID): check the handle")
        }
        let collection: NSID
        do {
            collection = try NSID(Self.collection)
        } catch {
            throw .unexpected("invalid collection NSID")
        }
        let record = ATProto.JSONValue.object(["$type": .string(Self.collection), "host": .string(host)])
        do {
            let ref = try await client.authorized(accessJwt: session.accessJwt)
                .putRecord(repo: did, collection: collection, rkey: did.string, record: record)
            return Published(did: did.string, pds: service, uri: ref.uri, cid: ref.cid)
        } catch {
            throw PublishError.write(pds: service, error)
        }
    }

    // MARK: Identity

    func resolveDID(_ identifier: String) async throws(PublishError) -> DID {
        if identifier.hasPrefix("did:") {
            do {
                return try DID(identifier)
            } catch {
                throw .invalidIdentifier(identifier, error.reason)
            }
        }
        let handle: Handle
        do {
            handle = try Handle(identifier.hasPrefix("@") ? String(identifier.dropFirst()) : identifier)
        } catch {
            throw .invalidIdentifier(identifier, error.reason)
        }
        if handleResolver == nil, let did = await wellKnownDID(of: handle) { return did }
        let resolver = handleResolver ?? Self.defaultHandleResolver
        do {
            return try await XRPCClient(serviceURL: resolver, transport: transport).resolveHandle(handle)
        } catch {
            throw .handleResolution(handle.string, resolver: resolver, error.description)
        }
    }

    /// `https://<handle>/.well-known/atproto-did`: the HTTPS method of handle resolution.
    private func wellKnownDID(of handle: Handle) async -> DID? {
        let request = HTTPRequestData(method: "GET", url: "https://\(handle.string)/.well-known/atproto-did")
        guard let response = try? await transport.send(request, maximumResponseSize: 2048),
            response.status == 200
        else { return nil }
        let text = String(decoding: response.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return try? DID(text)
    }

    func pdsEndpoint(of did: DID) async throws(PublishError) -> String {
        let resolver = NetworkDIDResolver(transport: transport, plcURL: plcURL)
        let document: DIDDocument
        do {
            document = try await resolver.resolve(did, forceRefresh: true)
        } catch {
            throw .didResolution(did.string, error.description)
        }
        guard let endpoint = document.pdsEndpoint else { throw .noPDS(did.string) }
        return endpoint
    }

    // MARK: Validation

    /// The apps prepend `https://` and `wss://` themselves, so the record holds a bare host (a port
    /// is allowed).
    static func validatedHost(_ host: String) throws(PublishError) -> String {
        let trimmed = host.trimmingCharacters(in: .whitespaces)
        if trimmed.contains("://") {
            let bare = trimmed.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init) ?? ""
            throw .invalidHost(host, "give the host without a scheme, e.g. \(bare.isEmpty ? "sync.example.com" : bare)")
        }
        guard !trimmed.isEmpty, !trimmed.contains("/"), !trimmed.contains("?"), !trimmed.contains("#"), !trimmed.contains("@") else {
            throw .invalidHost(host, "expected a host name with an optional port, e.g. sync.example.com or sync.example.com:8443")
        }
        var name = Substring(trimmed)
        if let colon = trimmed.lastIndex(of: ":"), !trimmed.hasSuffix("]") {
            let port = trimmed[trimmed.index(after: colon)...]
            guard let value = Int(port), (1...65535).contains(value) else { throw .invalidHost(host, "the port must be 1–65535") }
            name = trimmed[..<colon]
        }
        guard !name.isEmpty,
            name.utf8.allSatisfy({ byte in
                (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "[")
                    || byte == UInt8(ascii: "]") || byte == UInt8(ascii: ":")
            })
        else { throw .invalidHost(host, "the host name has characters a DNS name cannot have") }
        return trimmed
    }

    /// The app password travels to this URL: https only, except a PDS on this machine (tests,
    /// local development), whose traffic never leaves it.
    static func validatedServiceURL(_ url: String) throws(PublishError) -> String {
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(), let host = parsed.host, !host.isEmpty,
            scheme == "https" || scheme == "http"
        else {
            throw .invalidPDS(url)
        }
        guard scheme == "https" || LoopbackAddress.isLoopback(host) else { throw .insecurePDS(url) }
        return url
    }
}

/// Why publishing failed, phrased so the user knows what to change.
enum PublishError: Error, CustomStringConvertible {
    case invalidHost(String, String)
    case invalidPDS(String)
    case insecurePDS(String)
    case invalidIdentifier(String, String)
    case handleResolution(String, resolver: String, String)
    case didResolution(String, String)
    case noPDS(String)
    case login(pds: String, XRPCError)
    case write(pds: String, XRPCError)
    case unexpected(String)

    var description: String {
        switch self {
        case .invalidHost(let host, let hint): "invalid host '\(host)': \(hint)"
        case .invalidPDS(let url): "invalid PDS URL '\(url)': expected https://… (or http:// for a PDS on this machine)"
        case .insecurePDS(let url):
            "refusing to send the app password in clear text to \(url): use the PDS's https:// address (http:// is allowed only for localhost)"
        case .invalidIdentifier(let identifier, let reason):
            "'\(identifier)' is neither a handle nor a DID (\(reason)); pass --handle alice.example.com or a did:plc:/did:web: DID"
        case .handleResolution(let handle, let resolver, let reason):
            "cannot resolve the handle \(handle) (tried \(resolver)): \(reason). Pass the DID instead, or the PDS with --pds"
        case .didResolution(let did, let reason):
            "cannot find the PDS of \(did): \(reason). Pass it with --pds (or set PLC_URL)"
        case .noPDS(let did): "the DID document of \(did) names no PDS; pass it with --pds"
        case .login(let pds, let error): Self.loginMessage(pds: pds, error)
        case .write(let pds, let error):
            switch error {
            case .transport(let reason): "lost the connection to the PDS at \(pds) while writing the record: \(reason)"
            default: "the PDS at \(pds) refused to write the \(LocationPublisher.collection) record: \(error)"
            }
        case .unexpected(let reason): reason
        }
    }

    private static func loginMessage(pds: String, _ error: XRPCError) -> String {
        switch error {
        case .transport(let reason):
            return "cannot reach the PDS at \(pds): \(reason). Check the address (--pds) and your network"
        case .server(_, "AuthFactorTokenRequired", _):
            return "the PDS at \(pds) wants a sign-in code: use an app password (Settings → App passwords), not the account password"
        case .server(401, _, _):
            return "the PDS at \(pds) rejected the login: wrong handle or app password. Create an app password in Settings → App passwords"
        case .server(429, _, _):
            return "the PDS at \(pds) is rate-limiting logins; wait a few minutes and try again"
        case .server(let status, let name, let message):
            return "the PDS at \(pds) refused the login (HTTP \(status) \(name)\(message.map { ": \($0)" } ?? ""))"
        default:
            return "the login at \(pds) failed: \(error)"
        }
    }
}
