package import Foundation

/// One login: the group it may sync, how it was authenticated and whether the owner allows it.
/// Sync tokens name their session, so changing its status takes effect on every token at once.
package struct Session: Codable, Sendable, Equatable {
    package enum Status: String, Codable, Sendable, CaseIterable {
        /// Waiting for `groundmist-sync sessions approve ID` (DPoP logins).
        case pending
        case approved
        case revoked
    }

    package enum Method: String, Codable, Sendable {
        /// A verified ATProto service-auth JWT.
        case serviceAuth = "service-auth"
        /// An app's DPoP-bound PDS access token, which the server cannot verify.
        case dpop
        /// Minted by `groundmist-sync token create` on the server itself.
        case cli
    }

    package let id: String
    /// The namespace prefix (NSID order, lower case) whose repo the session may sync.
    package let group: String
    package let method: Method
    /// The app's self-declared client id (unverified), when known.
    package var clientId: String?
    /// RFC 7638 thumbprint of the DPoP key, so repeated logins from one app reuse the session.
    package var keyThumbprint: String?
    /// The `rootDocUrl` a pending login submitted. Registered only once the session is approved
    /// and connects, so an unapproved login cannot claim a group's root document.
    package var rootDocUrl: String?
    /// The login's `User-Agent` (unverified, sanitised), to help the owner recognise the device.
    package var userAgent: String?
    /// The address the login came from (the proxy's `X-Forwarded-For` when the peer is loopback).
    package var remoteAddress: String?
    package let created: Date
    package var lastSeen: Date?
    /// When the newest token of this session expires.
    package var expires: Date
    package var status: Status

    package init(
        id: String,
        group: String,
        method: Method,
        clientId: String? = nil,
        keyThumbprint: String? = nil,
        rootDocUrl: String? = nil,
        userAgent: String? = nil,
        remoteAddress: String? = nil,
        created: Date,
        lastSeen: Date? = nil,
        expires: Date,
        status: Status
    ) {
        self.id = id
        self.group = group
        self.method = method
        self.clientId = clientId
        self.keyThumbprint = keyThumbprint
        self.rootDocUrl = rootDocUrl
        self.userAgent = userAgent
        self.remoteAddress = remoteAddress
        self.created = created
        self.lastSeen = lastSeen
        self.expires = expires
        self.status = status
    }

    /// A fresh random id: 16 hex characters, short enough to type in `sessions approve`.
    package static func makeID() -> String {
        (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }
}
