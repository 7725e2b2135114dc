package import NIOCore

/// One connection to a remote peer, as a transport provides it. The repo speaks to peers only
/// through this seam, so it runs the same over WebSockets and in memory (tests).
package protocol RepoConnection: Sendable {
    /// Sends one protocol message (encoded CBOR) to the peer. Messages are delivered in order.
    func send(_ bytes: [UInt8]) async
    /// Closes the connection after the messages already sent.
    func close() async
}

/// Identifies a connection inside a repo for its whole life.
package struct RepoConnectionID: Hashable, Sendable, CustomStringConvertible {
    package let rawValue: UInt64
    package init(rawValue: UInt64) { self.rawValue = rawValue }
    package var description: String { "connection-\(rawValue)" }
}

/// What a transport drives: it registers each new connection, hands over every binary frame,
/// and reports when the connection ends.
package protocol RepoEndpoint: Sendable {
    func connect(_ connection: any RepoConnection) async -> RepoConnectionID
    /// Handles the frame completely before returning. Takes the frame over (`consuming`): an
    /// endpoint that has decoded it can let the bytes go while it works on the message.
    func receive(_ frame: consuming [UInt8], from connection: RepoConnectionID) async
    /// Hands the frame over in order and returns once accepted; it may be handled later (a repo
    /// handles different documents' messages concurrently). Frames of one connection are still
    /// handled in order per document, and all before its `disconnect`.
    func submit(_ frame: consuming [UInt8], from connection: RepoConnectionID) async
    /// `submit` for a frame still in the transport's buffer: an endpoint that decodes it in place
    /// takes it over without a copy (by default it is copied into an array).
    func submit(buffer frame: consuming ByteBuffer, from connection: RepoConnectionID) async
    func disconnect(_ connection: RepoConnectionID) async
}

extension RepoEndpoint {
    /// Endpoints that handle frames one at a time: `receive`.
    package func submit(_ frame: consuming [UInt8], from connection: RepoConnectionID) async {
        await receive(frame, from: connection)
    }

    /// Endpoints that take arrays only: a copy.
    package func submit(buffer frame: consuming ByteBuffer, from connection: RepoConnectionID) async {
        await submit(Array(frame.readableBytesView), from: connection)
    }
}
