package import Hummingbird
package import NIOCore

/// The request context of the server's routes: the basic one plus the peer's address, recorded
/// on logins so the owner can tell which device is asking for approval.
package struct GroundmistRequestContext: RequestContext, RemoteAddressRequestContext {
    package var coreContext: CoreRequestContextStorage
    package let remoteAddress: SocketAddress?

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
