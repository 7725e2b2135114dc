package import ATProto
package import Logging

extension AuthenticationConfiguration {
    /// The owner's DID resolver as the server runs it: `PLC_URL` over `transport`, cached, with
    /// failed lookups remembered for `GROUNDMIST_DID_FAILURE_CACHE` and at most
    /// `GROUNDMIST_DID_CACHE_SIZE` DIDs kept.
    package func didResolver(transport: any HTTPTransport, logger: Logger) -> CachingDIDResolver {
        CachingDIDResolver(
            upstream: NetworkDIDResolver(transport: transport, plcURL: plcURL),
            failureLifetime: loginLimits.didFailureLifetime,
            maximumEntries: loginLimits.didCacheEntries,
            logger: logger
        )
    }
}
