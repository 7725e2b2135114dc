import ATProto
import ArgumentParser
import AutomergeRepo
import Foundation
import GroundmistSync
import Logging

/// `groundmist-sync serve`: the default command, so `swift run groundmist-sync` starts the server.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the sync server (the default command).",
        discussion: """
            Settings come from a .env file in the working directory, then the environment (which \
            wins), then these flags (which win over both); .env.example documents every variable. \
            Without ATPROTO_DID the server runs in development mode: no authentication, loopback only. \
            With ATPROTO_DID, GROUNDMIST_SYNC_SECRET_KEY and PUBLIC_URL set, every WebSocket needs a \
            sync token from POST /authenticate and the server may listen on any interface.
            """
    )

    @Option(help: "Interface to listen on (loopback only in development mode). Overrides HOST.")
    var host: String?

    @Option(help: "TCP port. Overrides PORT.")
    var port: Int?

    @Option(name: .customLong("data-dir"), help: "Where documents are stored. Overrides DATA_DIR.")
    var dataDirectory: String?

    @Option(name: .customLong("public-url"), help: "Public https origin of the server, e.g. https://sync.example.com. Overrides PUBLIC_URL.")
    var publicURL: String?

    /// The flag and variable keep their old "legacy" spelling: deployments depend on them.
    @Option(name: .customLong("legacy-auth"), help: "DPoP logins from today's apps: approve, trust or off. Overrides GROUNDMIST_LEGACY_AUTH.")
    var dpopLogin: String?

    @Flag(
        name: .customLong("require-auth"),
        help:
            "Refuse to start without authentication (ATPROTO_DID and the rest) instead of running the development mode. Same as GROUNDMIST_REQUIRE_AUTH=1."
    )
    var requireAuth = false

    @Option(
        name: .customLong("share-policy"),
        help:
            "announce: offer loaded documents to every peer that connects (the original Groundmist server); requests: send a document only to peers that ask for it by id."
    )
    var sharePolicy: SharePolicyOption = .announce

    enum SharePolicyOption: String, ExpressibleByArgument {
        case announce
        case requests
    }

    func run() async throws {
        LargeAllocations.useSeparateMappings()
        var overrides: [String: String] = [:]
        if let host { overrides["HOST"] = host }
        if let port { overrides["PORT"] = String(port) }
        if let dataDirectory { overrides["DATA_DIR"] = dataDirectory }
        if let publicURL { overrides["PUBLIC_URL"] = publicURL }
        if let dpopLogin { overrides["GROUNDMIST_LEGACY_AUTH"] = dpopLogin }
        if requireAuth { overrides["GROUNDMIST_REQUIRE_AUTH"] = "1" }
        let configuration: ServerConfiguration
        do {
            configuration = try ServerConfiguration.load(overrides: overrides)
        } catch {
            throw ServeError(description: error.description)
        }

        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }

        let logger = Logger(label: "groundmist-sync")
        let metrics = GroundmistMetrics()
        metrics.bootstrapGlobalMetricsSystem()
        // Before any storage opens: the configured flush (which may come from `.env`) for every round.
        await GroupCommit.shared.setMode(configuration.storageFlush)
        // The durable-write series under the server's names (`groundmist_storage_fsyncs_total`, …).
        await GroupCommit.shared.setMetricsPrefix("groundmist")
        logger.debug("storage flush", metadata: ["mode": "\(configuration.storageFlush.rawValue)"])
        let directory = URL(fileURLWithPath: configuration.dataDirectory, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ServeError(description: "cannot create the data directory \(configuration.dataDirectory): \(error.localizedDescription)")
        }
        let policy: SharePolicy = sharePolicy == .announce ? .announceLoaded : .requestsOnly
        let mode: ServeMode
        if let authentication = configuration.authentication {
            mode = try await Self.authenticatedMode(
                configuration: configuration,
                authentication: authentication,
                policy: policy,
                metrics: metrics,
                logger: logger
            )
        } else {
            mode = try await Self.developmentMode(configuration: configuration, policy: policy, metrics: metrics, logger: logger)
        }
        let server: GroundmistServer
        do {
            server = try GroundmistServer(configuration: configuration, mode: mode.server, logger: logger, metrics: metrics, onShutdown: mode.flush)
        } catch {
            await mode.close()
            throw ServeError(description: error.description)
        }
        // Written unbuffered so the banner shows up at once even when stdout is a pipe (systemd, Docker).
        FileHandle.standardOutput.write(Data(mode.banner.utf8))
        do {
            try await server.run()
        } catch {
            await mode.close()
            throw error
        }
        await mode.close()
    }

    /// What differs between the modes at start-up: the server's mode, where the documents flush at
    /// shutdown, the banner, and what to release when the server stops.
    private struct ServeMode {
        let server: ServerMode
        let flush: @Sendable () async -> Void
        let banner: String
        let close: @Sendable () async -> Void
    }

    /// No authentication, loopback only: one repo in the data directory.
    private static func developmentMode(
        configuration: ServerConfiguration,
        policy: SharePolicy,
        metrics: GroundmistMetrics,
        logger: Logger
    ) async throws -> ServeMode {
        let storage: NodeFSRepoStorage
        do {
            storage = try NodeFSRepoStorage(
                directory: URL(fileURLWithPath: configuration.dataDirectory, isDirectory: true),
                compactionPolicy: .batched,
                logger: Logger(label: "groundmist.storage")
            )
            _ = try await storage.storageId()
        } catch {
            throw ServeError(description: "cannot use the data directory \(configuration.dataDirectory): \(error)")
        }
        let repo = Repo(
            configuration: configuration.repoLimits.configuration(peerId: "groundmist-sync", sharePolicy: policy),
            storage: storage,
            logger: logger,
            metrics: metrics.repo
        )
        let banner = """
            Groundmist sync server on \(configuration.webSocketURL)
            data directory: \(configuration.dataDirectory)
            \(GroundmistServer.developmentModeBanner)
            set ATPROTO_DID, GROUNDMIST_SYNC_SECRET_KEY and PUBLIC_URL to require authentication

            """
        return ServeMode(
            server: .development(endpoint: repo, hardening: configuration.hardening, logger: logger),
            flush: { await repo.flush() },
            banner: banner,
            close: {}
        )
    }

    /// Logins and sync tokens, one repo per group; the owner's DID document is resolved over HTTP.
    private static func authenticatedMode(
        configuration: ServerConfiguration,
        authentication: AuthenticationConfiguration,
        policy: SharePolicy,
        metrics: GroundmistMetrics,
        logger: Logger
    ) async throws -> ServeMode {
        let transport = AsyncHTTPTransport()
        let resolver = authentication.didResolver(transport: transport, logger: logger)
        let authority: SyncAuthority
        do {
            authority = try await SyncAuthority(
                configuration: authentication,
                dataDirectory: configuration.dataDirectory,
                resolver: resolver,
                sharePolicy: policy,
                repoLimits: configuration.repoLimits,
                logger: logger
            )
        } catch {
            try? await transport.shutdown()
            throw ServeError(description: "cannot start: \(error)")
        }
        let banner = """
            Groundmist sync server \(GroundmistVersion.current) on \(configuration.webSocketURL) (public URL \(authentication.publicURL))
            data directory: \(configuration.dataDirectory)
            owner: \(authentication.ownerDID)  service DID: \(authentication.serviceDID)
            DPoP logins (today's apps): \(authentication.dpopLogin.rawValue)
            trusted proxies (X-Forwarded-For): \(authentication.trustedProxies)

            """
        return ServeMode(
            server: .authenticated(authority),
            flush: { await authority.groups.flush() },
            banner: banner,
            close: { try? await transport.shutdown() }
        )
    }
}

/// A configuration problem found at start-up; printed as is, without the usage text.
struct ServeError: Error, CustomStringConvertible {
    let description: String
}
