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

    @Option(name: .customLong("legacy-auth"), help: "DPoP logins from today's apps: approve, trust or off. Overrides GROUNDMIST_LEGACY_AUTH.")
    var legacyAuth: String?

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
        if let legacyAuth { overrides["GROUNDMIST_LEGACY_AUTH"] = legacyAuth }
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
        logger.debug("storage flush", metadata: ["mode": "\(configuration.storageFlush.rawValue)"])
        let directory = URL(fileURLWithPath: configuration.dataDirectory, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ServeError(description: "cannot create the data directory \(configuration.dataDirectory): \(error.localizedDescription)")
        }
        let policy: SharePolicy = sharePolicy == .announce ? .announceLoaded : .requestsOnly
        if let authentication = configuration.authentication {
            try await runAuthenticated(
                configuration: configuration,
                authentication: authentication,
                policy: policy,
                metrics: metrics,
                logger: logger
            )
        } else {
            try await runDevelopment(configuration: configuration, policy: policy, metrics: metrics, logger: logger)
        }
    }

    private func runDevelopment(
        configuration: ServerConfiguration,
        policy: SharePolicy,
        metrics: GroundmistMetrics,
        logger: Logger
    ) async throws {
        let storage: NodeFSRepoStorage
        do {
            storage = try NodeFSRepoStorage(directory: URL(fileURLWithPath: configuration.dataDirectory, isDirectory: true))
            _ = try await storage.storageId()
        } catch {
            throw ServeError(description: "cannot use the data directory \(configuration.dataDirectory): \(error)")
        }
        let repo = Repo(
            configuration: .init(peerId: "groundmist-sync", sharePolicy: policy),
            storage: storage,
            logger: logger,
            metrics: metrics.repo
        )
        let server: GroundmistServer
        do {
            server = try GroundmistServer(
                configuration: configuration,
                endpoint: repo,
                logger: logger,
                metrics: metrics,
                onShutdown: { await repo.flush() }
            )
        } catch {
            throw ServeError(description: error.description)
        }
        // Written unbuffered so the banner shows up at once even when stdout is a pipe (systemd, Docker).
        let banner = """
            Groundmist sync server on \(configuration.webSocketURL)
            data directory: \(configuration.dataDirectory)
            \(GroundmistServer.developmentModeBanner)
            set ATPROTO_DID, GROUNDMIST_SYNC_SECRET_KEY and PUBLIC_URL to require authentication

            """
        FileHandle.standardOutput.write(Data(banner.utf8))
        try await server.run()
    }

    private func runAuthenticated(
        configuration: ServerConfiguration,
        authentication: AuthenticationConfiguration,
        policy: SharePolicy,
        metrics: GroundmistMetrics,
        logger: Logger
    ) async throws {
        let transport = AsyncHTTPTransport()
        let resolver = CachingDIDResolver(upstream: NetworkDIDResolver(transport: transport, plcURL: authentication.plcURL), logger: logger)
        let authority: SyncAuthority
        do {
            authority = try await SyncAuthority(
                configuration: authentication,
                dataDirectory: configuration.dataDirectory,
                resolver: resolver,
                sharePolicy: policy,
                logger: logger
            )
        } catch {
            try? await transport.shutdown()
            throw ServeError(description: "cannot start: \(error)")
        }
        let server: GroundmistServer
        do {
            server = try GroundmistServer(
                configuration: configuration,
                authority: authority,
                logger: logger,
                metrics: metrics,
                onShutdown: { await authority.groups.flush() }
            )
        } catch {
            try? await transport.shutdown()
            throw ServeError(description: error.description)
        }
        let banner = """
            Groundmist sync server \(GroundmistVersion.current) on \(configuration.webSocketURL) (public URL \(authentication.publicURL))
            data directory: \(configuration.dataDirectory)
            owner: \(authentication.ownerDID)  service DID: \(authentication.serviceDID)
            logins from today's apps (DPoP): \(authentication.legacyAuth.rawValue)
            trusted proxies (X-Forwarded-For): \(authentication.trustedProxies)

            """
        FileHandle.standardOutput.write(Data(banner.utf8))
        do {
            try await server.run()
        } catch {
            try? await transport.shutdown()
            throw error
        }
        try? await transport.shutdown()
    }
}

/// A configuration problem found at start-up; printed as is, without the usage text.
struct ServeError: Error, CustomStringConvertible {
    let description: String
}
