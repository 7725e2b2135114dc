package import ATProto
package import AutomergeRepo
package import Foundation
package import Logging

/// One repo per lexicon group, stored at `DATA_DIR/<segments joined by '/'>` as the original server
/// laid it out, so existing data directories keep working. Repos are created on first use — by
/// `/authenticate` or by a WebSocket after a restart — and live as long as the server.
package actor GroupRepositories {
    package let dataDirectory: String
    private let sharePolicy: SharePolicy
    private let limits: RepoLimits
    private let logger: Logger
    private let metrics: RepoMetrics
    private var repos: [NamespacePrefix: Repo] = [:]
    /// Opens in progress, so callers arriving during one wait for it instead of opening again.
    private var opening: [NamespacePrefix: Task<Repo, any Error>] = [:]
    /// How many times a group's storage was opened (once per group), for tests.
    private(set) var storagesOpened = 0

    package init(
        dataDirectory: String,
        sharePolicy: SharePolicy = .announceLoaded,
        limits: RepoLimits = .default,
        logger: Logger,
        metrics: RepoMetrics = RepoMetrics()
    ) {
        self.dataDirectory = dataDirectory
        self.sharePolicy = sharePolicy
        self.limits = limits
        self.logger = logger
        self.metrics = metrics
    }

    /// The folder of a group (`GroupDirectory`'s rule).
    package nonisolated func directory(for group: NamespacePrefix) -> URL {
        GroupDirectory.url(for: group, in: dataDirectory)
    }

    /// The group's repo, opened on first use. Concurrent first calls share one open: a second
    /// `NodeFSRepoStorage` on the same folder would delete the first one's temporary files.
    package func repo(for group: NamespacePrefix) async throws -> Repo {
        if let existing = repos[group] { return existing }
        if let opening = opening[group] { return try await opening.value }
        let task = Task { try await open(group) }
        opening[group] = task
        defer { opening[group] = nil }
        let repo = try await task.value
        repos[group] = repo
        return repo
    }

    private func open(_ group: NamespacePrefix) async throws -> Repo {
        let directory = directory(for: group)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let storage = try NodeFSRepoStorage(directory: directory, compactionPolicy: .batched, logger: Logger(label: "groundmist.storage"))
        _ = try await storage.storageId()
        storagesOpened += 1
        var repoLogger = logger
        repoLogger[metadataKey: "group"] = "\(group)"
        let repo = Repo(
            configuration: limits.configuration(peerId: "storage-server-groundmist-sync-\(group)", sharePolicy: sharePolicy),
            storage: storage,
            logger: repoLogger,
            metrics: metrics
        )
        logger.info("group repository opened", metadata: ["group": "\(group)", "directory": "\(directory.path)"])
        return repo
    }

    /// Every open repo, for flushing at shutdown.
    package var openRepos: [Repo] { Array(repos.values) }

    package func flush() async {
        for repo in repos.values { await repo.flush() }
    }
}
