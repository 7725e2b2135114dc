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
            Settings come from HOST, PORT, DATA_DIR and LOG_LEVEL, then a .env file in the working \
            directory (the environment wins), then these flags (which win over both). \
            This build has no authentication and only listens on loopback.
            """
    )

    @Option(help: "Interface to listen on (loopback only for now). Overrides HOST.")
    var host: String?

    @Option(help: "TCP port. Overrides PORT.")
    var port: Int?

    @Option(name: .customLong("data-dir"), help: "Where documents are stored. Overrides DATA_DIR.")
    var dataDirectory: String?

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
        var configuration: ServerConfiguration
        do {
            configuration = try ServerConfiguration.load()
        } catch {
            throw ServeError(description: error.description)
        }
        if let host { configuration.host = host }
        if let port {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
            configuration.port = port
        }
        if let dataDirectory {
            guard !dataDirectory.isEmpty else { throw ValidationError("--data-dir must not be empty") }
            configuration.dataDirectory = dataDirectory
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
        let directory = URL(fileURLWithPath: configuration.dataDirectory, isDirectory: true)
        let storage: NodeFSRepoStorage
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            storage = try NodeFSRepoStorage(directory: directory)
            _ = try await storage.storageId()
        } catch {
            throw ServeError(description: "cannot use the data directory \(configuration.dataDirectory): \(error)")
        }
        let repo = Repo(
            configuration: .init(peerId: "groundmist-sync", sharePolicy: sharePolicy == .announce ? .announceLoaded : .requestsOnly),
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

            """
        FileHandle.standardOutput.write(Data(banner.utf8))
        try await server.run()
    }
}

/// A configuration problem found at start-up; printed as is, without the usage text.
struct ServeError: Error, CustomStringConvertible {
    let description: String
}
