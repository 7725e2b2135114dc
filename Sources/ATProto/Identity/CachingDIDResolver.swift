import Logging

/// Caches DID documents: fresh for 1 h, then refreshed on use (falling back to the stale copy if the
/// refresh fails) until 24 h, after which resolution must succeed again. Forced refreshes (after a
/// signature failure) hit the upstream at most once per 60 s per DID, so forged tokens cannot make
/// the server flood the PLC directory.
///
/// Concurrent misses for the same DID may each reach the upstream once; with one owner DID that is harmless.
public actor CachingDIDResolver: DIDResolver {
    private struct Entry {
        let document: DIDDocument
        let fetchedAt: Double
    }

    private let upstream: any DIDResolver
    private let clock: any AuthClock
    public let staleAfter: Double
    public let expireAfter: Double
    public let minimumForcedRefreshInterval: Double
    private var entries: [DID: Entry] = [:]
    private var lastForcedRefresh: [DID: Double] = [:]
    private let logger: Logger

    public init(
        upstream: any DIDResolver,
        clock: any AuthClock = SystemClock(),
        staleAfter: Double = 3600,
        expireAfter: Double = 86400,
        minimumForcedRefreshInterval: Double = 60,
        logger: Logger = Logger(label: "groundmist.atproto.did-cache")
    ) {
        self.logger = logger
        self.upstream = upstream
        self.clock = clock
        self.staleAfter = staleAfter
        self.expireAfter = expireAfter
        self.minimumForcedRefreshInterval = minimumForcedRefreshInterval
    }

    public func resolve(_ did: DID, forceRefresh: Bool) async throws(DIDResolutionError) -> DIDDocument {
        let now = clock.now()
        let cached = entries[did].flatMap { now - $0.fetchedAt < expireAfter ? $0 : nil }
        if forceRefresh {
            if let last = lastForcedRefresh[did], now - last < minimumForcedRefreshInterval, let cached {
                return cached.document
            }
            lastForcedRefresh[did] = now
            return try await fetch(did, fallback: cached)
        }
        if let cached {
            if now - cached.fetchedAt < staleAfter { return cached.document }
            return try await fetch(did, fallback: cached)
        }
        return try await fetch(did, fallback: nil)
    }

    /// Drops everything cached for `did` (e.g. after the owner changes their PDS).
    public func invalidate(_ did: DID) {
        entries[did] = nil
    }

    private func fetch(_ did: DID, fallback: Entry?) async throws(DIDResolutionError) -> DIDDocument {
        do {
            let document = try await upstream.resolve(did, forceRefresh: true)
            entries[did] = Entry(document: document, fetchedAt: clock.now())
            return document
        } catch {
            logger.warning("DID resolution failed", metadata: ["did": "\(did)", "error": "\(error)", "cached": "\(fallback != nil)"])
            // A deleted DID must not live on in the cache; transient failures serve the unexpired copy.
            if case .notFound = error {
                entries[did] = nil
                throw error
            }
            if let fallback { return fallback.document }
            throw error
        }
    }
}
