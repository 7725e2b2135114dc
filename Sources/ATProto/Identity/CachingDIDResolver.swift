package import Logging

/// Caches DID documents: fresh for 1 h, then refreshed on use (falling back to the stale copy if the
/// refresh fails) until 24 h, after which resolution must succeed again. Forced refreshes (after a
/// signature failure) hit the upstream at most once per 60 s per DID, so forged tokens cannot make
/// the server flood the PLC directory.
///
/// Failed resolutions are remembered for `failureLifetime` (30 s): within it, the failure (or the
/// unexpired stale copy) is answered without asking the upstream again, so a stream of forged
/// tokens naming an unresolvable DID costs one fetch and one warning per window, not one each.
/// At most `maximumEntries` DIDs are remembered (documents and failures each); the oldest go first.
///
/// Concurrent misses for the same DID may each reach the upstream once; with one owner DID that is harmless.
package actor CachingDIDResolver: DIDResolver {
    private struct Entry {
        let document: DIDDocument
        let fetchedAt: Double
    }

    private struct Failure {
        let error: DIDResolutionError
        let failedAt: Double
    }

    private let upstream: any DIDResolver
    private let clock: any AuthClock
    package let staleAfter: Double
    package let expireAfter: Double
    package let minimumForcedRefreshInterval: Double
    private var entries: [DID: Entry] = [:]
    private var lastForcedRefresh: [DID: Double] = [:]
    private var failures: [DID: Failure] = [:]
    package nonisolated let failureLifetime: Double
    package nonisolated let maximumEntries: Int
    private let logger: Logger

    package init(
        upstream: any DIDResolver,
        clock: any AuthClock = SystemClock(),
        staleAfter: Double = 3600,
        expireAfter: Double = 86400,
        minimumForcedRefreshInterval: Double = 60,
        failureLifetime: Double = 30,
        maximumEntries: Int = 1000,
        logger: Logger = Logger(label: "groundmist.atproto.did-cache")
    ) {
        self.failureLifetime = failureLifetime
        self.maximumEntries = max(1, maximumEntries)
        self.logger = logger
        self.upstream = upstream
        self.clock = clock
        self.staleAfter = staleAfter
        self.expireAfter = expireAfter
        self.minimumForcedRefreshInterval = minimumForcedRefreshInterval
    }

    package func resolve(_ did: DID, forceRefresh: Bool) async throws(DIDResolutionError) -> DIDDocument {
        let now = clock.now()
        let cached = entries[did].flatMap { now - $0.fetchedAt < expireAfter ? $0 : nil }
        if let failure = failures[did], now - failure.failedAt < failureLifetime {
            if let cached, failure.error.isTransient { return cached.document }
            throw failure.error
        }
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
    package func invalidate(_ did: DID) {
        entries[did] = nil
        failures[did] = nil
    }

    /// How many DIDs are remembered (documents, failures); for tests of the bound.
    package var counts: (documents: Int, failures: Int) { (entries.count, failures.count) }

    private func fetch(_ did: DID, fallback: Entry?) async throws(DIDResolutionError) -> DIDDocument {
        do {
            let document = try await upstream.resolve(did, forceRefresh: true)
            failures[did] = nil
            entries[did] = Entry(document: document, fetchedAt: clock.now())
            Self.trim(&entries, to: maximumEntries, age: \.fetchedAt)
            return document
        } catch {
            logger.warning(
                "DID resolution failed",
                metadata: ["did": "\(LogSafe(did.string))", "error": "\(LogSafe(error.description, limit: 300))", "cached": "\(fallback != nil)"]
            )
            failures[did] = Failure(error: error, failedAt: clock.now())
            Self.trim(&failures, to: maximumEntries, age: \.failedAt)
            Self.trim(&lastForcedRefresh, to: maximumEntries, age: \.self)
            // A deleted DID must not live on in the cache; transient failures serve the unexpired copy.
            if case .notFound = error {
                entries[did] = nil
                throw error
            }
            if let fallback { return fallback.document }
            throw error
        }
    }

    /// Drops the oldest entries beyond `limit`.
    private static func trim<Value>(_ dictionary: inout [DID: Value], to limit: Int, age: (Value) -> Double) {
        guard dictionary.count > limit else { return }
        let oldest = dictionary.sorted { age($0.value) < age($1.value) }.prefix(dictionary.count - limit)
        for (did, _) in oldest { dictionary[did] = nil }
    }
}

extension DIDResolutionError {
    /// A failure a stale copy may paper over (not a deleted DID).
    var isTransient: Bool {
        if case .notFound = self { return false }
        return true
    }
}
