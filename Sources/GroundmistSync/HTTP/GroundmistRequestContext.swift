import Hummingbird
import NIOCore

/// The request context of the server's routes: the basic one plus the peer's address, recorded
/// on logins so the owner can tell which device is asking for approval.
public struct GroundmistRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
