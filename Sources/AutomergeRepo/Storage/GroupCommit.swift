package import Metrics

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Group commit: makes files durable in rounds shared by every writer in the process.
///
/// A write that arrives while a round is in flight joins the next one. A round writes each of its
/// files to a temporary file and renames it into place, then flushes the batch once (see
/// `FlushMode`), and only then resumes every waiter: an acknowledged write has survived its flush.
/// (With `syncfs`, a new file is written with no name at all and linked to its name once its bytes
/// are durable: no temporary name, no rename, and nothing left behind by a crash.)
/// A round spans documents, groups and storage roots. Appends to the same directory in one round
/// (consecutive changes to one document) become one file holding their concatenation.
///
/// A failure in a round fails every write of that round under the same storage root (none of them
/// is acknowledged, though some may be on disk: a harmless duplicate of nothing acknowledged);
/// writes under other roots are unaffected. The rounds run on `BlockingIO`'s round thread, one
/// after the other.
package actor GroupCommit {
    /// How a round's files are made durable.
    package enum FlushMode: String, Sendable, CaseIterable {
        /// `fsync` each file before its rename, then each directory that received a file, once.
        case files
        /// Linux `syncfs`: write every file (a new one unnamed, a replacement to a temporary file),
        /// one `syncfs`, name them all (`linkat`, or `rename` over the file replaced), one more
        /// `syncfs` for the names. Two flushes a round, whatever the batch, but each flushes
        /// everything dirty on the file system (other programs' writes too).
        case fileSystem = "syncfs"
    }

    /// The coordinator every `NodeFSStorage` uses unless given another: one per process. Its flush
    /// mode starts as `GROUNDMIST_STORAGE_FLUSH` from the process environment (`auto` when unset); the
    /// server sets it from its configuration (which includes `.env`) before it opens any storage.
    package static let shared = GroupCommit(mode: FlushMode.fromEnvironment())

    /// One file to make durable.
    struct Request: Sendable {
        enum Target: Sendable {
            /// Create or replace exactly this file.
            case file(path: String)
            /// A new file in this directory, named by `name(bytes)` of everything appended to the
            /// directory in the round.
            case append(name: @Sendable ([UInt8]) -> String)
        }

        var fileSystem: any FileSystem
        /// The storage root (failures are scoped to it) and its folder for in-flight writes.
        var root: String
        var temporaryDirectory: String
        var directory: String
        var target: Target
        var bytes: [UInt8]
    }

    /// Where a request's bytes ended up.
    struct Committed: Sendable, Equatable {
        var path: String
        var byteCount: Int
    }

    /// Totals since the coordinator was made (what its metrics count, readable by tests).
    package struct Totals: Sendable, Equatable {
        package var rounds = 0
        package var writes = 0
        package var files = 0
        package var fsyncs = 0
    }

    /// Threads that write a large round's files side by side (the round's own and
    /// `BlockingIO.commitWriters`).
    static let writerThreads = 4

    /// At most this many files of a round stay open, unnamed, until its first flush; the rest are
    /// written to temporary files (a round of thousands of new documents must not run out of
    /// descriptors).
    static let maxUnnamedFiles = 256

    /// How many threads write a round of this many files: one per 16 files, up to
    /// `writerThreads` (a small round stays on one).
    static func writerShares(files: Int) -> Int {
        max(1, min(writerThreads, files / 16))
    }

    package private(set) var mode: FlushMode
    private var metrics: CommitMetrics
    private let metricsFactory: any MetricsFactory
    private var pending: [(Request, CheckedContinuation<Result<Committed, StorageError>, Never>)] = []
    private var roundInFlight = false
    package private(set) var totals = Totals()

    package init(mode: FlushMode = .files, metricsFactory: (any MetricsFactory)? = nil) {
        self.mode = mode
        self.metricsFactory = metricsFactory ?? MetricsSystem.factory
        metrics = CommitMetrics(factory: self.metricsFactory)
    }

    /// Names the metrics `<prefix>_storage_…` from now on (the server passes its own prefix at start,
    /// before any storage opens).
    package func setMetricsPrefix(_ prefix: String) {
        metrics = CommitMetrics(prefix: prefix, factory: metricsFactory)
    }

    /// Changes how the next rounds flush (the server applies its configured mode at start).
    package func setMode(_ mode: FlushMode) { self.mode = mode }

    /// Makes `request` durable in the next round; returns once that round's flush succeeded.
    func commit(_ request: Request) async throws(StorageError) -> Committed {
        let result = await withCheckedContinuation { continuation in
            pending.append((request, continuation))
            if !roundInFlight {
                roundInFlight = true
                Task { await self.runRounds() }
            }
        }
        return try result.get()
    }

    /// Counts the fsyncs of a durable write made outside the rounds (compaction).
    func countBackgroundFsyncs(_ count: Int) {
        guard count > 0 else { return }
        totals.fsyncs += count
        metrics.fsyncs.increment(by: Int64(count))
    }

    private func runRounds() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            let requests = batch.map(\.0)
            let mode = mode
            let outcome: Round.Outcome
            do {
                outcome = try await BlockingIO.runRound {
                    var round = Round(requests: requests, mode: mode)
                    return round.perform()
                }
            } catch {
                outcome = Round.Outcome(results: requests.map { _ in .failure(error) }, files: 0, fsyncs: 0)
            }
            totals.rounds += 1
            totals.writes += batch.count
            totals.files += outcome.files
            totals.fsyncs += outcome.fsyncs
            metrics.record(writes: batch.count, files: outcome.files, fsyncs: outcome.fsyncs)
            for (index, (_, continuation)) in batch.enumerated() { continuation.resume(returning: outcome.results[index]) }
        }
        roundInFlight = false
    }
}

extension GroupCommit.FlushMode {
    /// `GROUNDMIST_STORAGE_FLUSH`: `files`, `syncfs`, or `auto` (also when unset or empty).
    /// Returns nil for anything else.
    package static func parse(_ text: String) -> Self? {
        switch text.lowercased().split(whereSeparator: \.isWhitespace).joined() {
        case "", "auto": return automatic()
        case "files": return .files
        case "syncfs": return .fileSystem
        default: return nil
        }
    }

    /// The mode that measures best while keeping the guarantee: `syncfs` where it reports write-back
    /// errors (Linux 5.8 and later), `files` everywhere else. `syncfs` takes two flushes a round
    /// whatever its size, where `files` takes one per file; on this project's 2-core benchmark it tripled
    /// throughput under many concurrent writers.
    package static func automatic() -> Self {
        #if canImport(Glibc)
        guard let (major, minor) = kernelVersion() else { return .files }
        return (major, minor) >= (5, 8) ? .fileSystem : .files
        #else
        return .files
        #endif
    }

    static func fromEnvironment() -> Self {
        guard let raw = getenv("GROUNDMIST_STORAGE_FLUSH") else { return automatic() }
        return parse(String(cString: raw)) ?? automatic()
    }

    #if canImport(Glibc)
    /// The running kernel's major and minor version, from `uname`.
    static func kernelVersion() -> (Int, Int)? {
        var names = utsname()
        guard uname(&names) == 0 else { return nil }
        let release = withUnsafeBytes(of: &names.release) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return parseKernelRelease(release)
    }
    #endif

    /// `"6.18.44-fc-v1252"` → (6, 18); nil when the text does not start with two numbers.
    static func parseKernelRelease(_ release: String) -> (Int, Int)? {
        let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard numbers.count == 2, release.first?.isNumber == true else { return nil }
        return (numbers[0], numbers[1])
    }
}

/// The storage metrics of group commit: `<prefix>_storage_fsyncs_total`,
/// `<prefix>_storage_commit_rounds_total`, `…_writes_total` and `…_files_total`. The prefix is the
/// application's (`GroupCommit.setMetricsPrefix`); the repo layer names no application.
struct CommitMetrics: Sendable {
    static let defaultPrefix = "automerge_repo"

    /// Every `fsync`/`syncfs` a durable write made (files, directories, file systems).
    let fsyncs: Counter
    /// Group-commit rounds (each ends with one flush of its batch).
    let rounds: Counter
    /// Durable writes asked for (each acknowledged write is one); writes ÷ rounds is the batch size.
    let writes: Counter
    /// Files written by the rounds (appends to one document in one round share a file).
    let files: Counter

    init(prefix: String = CommitMetrics.defaultPrefix, factory: any MetricsFactory) {
        fsyncs = Counter(label: "\(prefix)_storage_fsyncs_total", factory: factory)
        rounds = Counter(label: "\(prefix)_storage_commit_rounds_total", factory: factory)
        writes = Counter(label: "\(prefix)_storage_commit_writes_total", factory: factory)
        files = Counter(label: "\(prefix)_storage_commit_files_total", factory: factory)
    }

    func record(writes: Int, files: Int, fsyncs: Int) {
        rounds.increment()
        self.writes.increment(by: Int64(writes))
        self.files.increment(by: Int64(files))
        if fsyncs > 0 { self.fsyncs.increment(by: Int64(fsyncs)) }
    }
}

/// One round's work, on a blocking-I/O thread.
private struct Round {
    struct Outcome: Sendable {
        var results: [Result<GroupCommit.Committed, StorageError>]
        var files: Int
        var fsyncs: Int
    }

    /// A file of the round and the requests it holds.
    struct File: Sendable {
        var fileSystem: any FileSystem
        var root: String
        var directory: String
        var path: String
        var temporary: String
        var bytes: [UInt8]
        var requests: [Int]
        var written = false
        /// Written unnamed and linked to `path` after the first flush (a new file, `syncfs` mode).
        var linkAfterFlush = false
        /// The open unnamed file, once written.
        var descriptor: Int32?
    }

    /// What one thread's share of the files came to.
    private struct ShareOutcome: Sendable {
        /// Indices (into the round's files) written, with the unnamed file of each left open.
        var written: [(index: Int, descriptor: Int32?)] = []
        /// The first failure of each root, in the share's order.
        var failed: [(root: String, error: StorageError)] = []
        var fsyncs = 0
    }

    let requests: [GroupCommit.Request]
    let mode: GroupCommit.FlushMode
    private var fsyncs = 0
    private var failed: [String: StorageError] = [:]

    init(requests: [GroupCommit.Request], mode: GroupCommit.FlushMode) {
        self.requests = requests
        self.mode = mode
    }

    mutating func perform() -> Outcome {
        var files = plan()
        writeAll(&files)
        switch mode {
        case .files:
            var synced: Set<String> = []
            for file in files where file.written && failed[file.root] == nil && synced.insert(file.directory).inserted {
                attempt(file.root) { () throws(StorageError) in try file.fileSystem.syncDirectory(file.directory) }
            }
        case .fileSystem:
            flushFileSystems(files)
            for index in files.indices where files[index].written {
                let file = files[index]
                if let descriptor = file.descriptor {
                    // Durable now: named, then closed (a file of a failed root just closes, and is gone).
                    if failed[file.root] == nil { attempt(file.root) { () throws(StorageError) in try Self.name(file, descriptor) } }
                    _ = try? file.fileSystem.close(descriptor, path: file.path)
                } else if failed[file.root] == nil {
                    attempt(file.root) { () throws(StorageError) in try file.fileSystem.rename(file.temporary, to: file.path) }
                    if failed[file.root] != nil { _ = try? file.fileSystem.removeFile(file.temporary) }
                }
            }
            flushFileSystems(files)
        }
        var results = [Result<GroupCommit.Committed, StorageError>](
            repeating: .failure(.io(operation: "group commit", path: "", errno: 0, reason: "not written")),
            count: requests.count
        )
        for file in files {
            // Nothing of a failed root is acknowledged; its unrenamed temporary files go now (and any
            // the process could not remove, at the next start).
            if failed[file.root] != nil { _ = try? file.fileSystem.removeFile(file.temporary) }
            let result: Result<GroupCommit.Committed, StorageError> =
                if let error = failed[file.root] { .failure(error) } else { .success(.init(path: file.path, byteCount: file.bytes.count)) }
            for request in file.requests { results[request] = result }
        }
        return Outcome(results: results, files: files.count, fsyncs: fsyncs)
    }

    /// Writes every file, sharing a large round among `GroupCommit.writerThreads` threads: creating
    /// files and folders is most of a round's time when many documents are new (the file system
    /// picks an inode for each).
    private mutating func writeAll(_ files: inout [File]) {
        let shares = GroupCommit.writerShares(files: files.count)
        let all = files
        let syncFile = mode == .files
        let outcomes = BlockingIO.concurrently(shares) { share in
            Self.write(all, share: share, of: shares, syncFile: syncFile)
        }
        for outcome in outcomes {
            fsyncs += outcome.fsyncs
            for (index, descriptor) in outcome.written {
                files[index].written = true
                files[index].descriptor = descriptor
            }
            for failure in outcome.failed where failed[failure.root] == nil { failed[failure.root] = failure.error }
        }
    }

    /// Writes the files whose index is `share` modulo `shares`, in order.
    private static func write(_ files: [File], share: Int, of shares: Int, syncFile: Bool) -> ShareOutcome {
        var outcome = ShareOutcome()
        var failedRoots: Set<String> = []
        for index in stride(from: share, to: files.count, by: shares) {
            let file = files[index]
            guard !failedRoots.contains(file.root) else { continue }
            do throws(StorageError) {
                let (syncs, descriptor) = try write(file, syncFile: syncFile)
                outcome.fsyncs += syncs
                outcome.written.append((index, descriptor))
            } catch {
                failedRoots.insert(file.root)
                outcome.failed.append((file.root, error))
            }
        }
        return outcome
    }

    /// The round's files: one per replaced path (the last request wins; all are answered), one per
    /// directory for its appends, in the order of their first request.
    private func plan() -> [File] {
        var files: [File] = []
        var appendIndex: [String: Int] = [:]
        var replaceIndex: [String: Int] = [:]
        for (number, request) in requests.enumerated() {
            switch request.target {
            case .file(let path):
                if let index = replaceIndex[path] {
                    files[index].bytes = request.bytes
                    files[index].requests.append(number)
                } else {
                    replaceIndex[path] = files.count
                    files.append(file(request, path: path, number: number))
                }
            case .append:
                if let index = appendIndex[request.directory] {
                    files[index].bytes.append(contentsOf: request.bytes)
                    files[index].requests.append(number)
                } else {
                    appendIndex[request.directory] = files.count
                    files.append(file(request, path: "", number: number))
                }
            }
        }
        var unnamed = 0
        for index in files.indices where files[index].path.isEmpty {
            guard case .append(let name) = requests[files[index].requests[0]].target else { continue }
            files[index].path = files[index].directory + "/" + name(files[index].bytes)
            // A new file (named by its bytes): linked once durable, with no temporary name.
            if mode == .fileSystem && unnamed < GroupCommit.maxUnnamedFiles {
                files[index].linkAfterFlush = true
                unnamed += 1
            }
        }
        return files
    }

    private func file(_ request: GroupCommit.Request, path: String, number: Int) -> File {
        File(
            fileSystem: request.fileSystem,
            root: request.root,
            directory: request.directory,
            path: path,
            temporary: request.temporaryDirectory + "/" + Self.temporaryName(),
            bytes: request.bytes,
            requests: [number]
        )
    }

    private static func temporaryName() -> String {
        (0..<4).map { _ in String(UInt32.random(in: 0...UInt32.max), radix: 16) }.joined(separator: "-")
    }

    /// Creates the temporary file, writes it and (in `files` mode) syncs it and renames it into
    /// place; or, for a file linked after the flush, writes it unnamed and returns it open. Returns
    /// how many fsyncs it made; on failure its temporary file is gone.
    private static func write(_ file: File, syncFile: Bool) throws(StorageError) -> (syncs: Int, descriptor: Int32?) {
        let fileSystem = file.fileSystem
        let (directory, temporary, path, bytes) = (file.directory, file.temporary, file.path, file.bytes)
        // With `syncfs` the round's flushes cover new directories too.
        var syncs = try fileSystem.makeDirectories(directory, syncParents: syncFile)
        if file.linkAfterFlush, let descriptor = try fileSystem.createUnnamedFile(in: directory, permissions: 0o644) {
            do throws(StorageError) {
                try fileSystem.write(descriptor, bytes, path: path)
            } catch {
                _ = try? fileSystem.close(descriptor, path: path)
                throw error
            }
            return (syncs, descriptor)
        }
        // Its inode is placed beside the destination's rather than in `.tmp`'s block group.
        let descriptor = try fileSystem.createFile(temporary, near: directory, permissions: 0o644)
        var open = true
        do throws(StorageError) {
            try fileSystem.write(descriptor, bytes, path: temporary)
            if syncFile {
                syncs += 1
                try fileSystem.sync(descriptor, path: temporary)
            }
            open = false
            try fileSystem.close(descriptor, path: temporary)
            if syncFile { try fileSystem.rename(temporary, to: path) }
        } catch {
            if open { _ = try? fileSystem.close(descriptor, path: temporary) }
            _ = try? fileSystem.removeFile(temporary)
            throw error
        }
        return (syncs, nil)
    }

    /// Gives a durable unnamed file its name. A name already taken (the same bytes stored before,
    /// or a file torn by another server's crash) is replaced, as a rename would: linked to the
    /// temporary name first, then renamed over it.
    private static func name(_ file: File, _ descriptor: Int32) throws(StorageError) {
        do throws(StorageError) {
            try file.fileSystem.link(descriptor, to: file.path)
        } catch  where error.isFileExists {
            try file.fileSystem.link(descriptor, to: file.temporary)
            do throws(StorageError) {
                try file.fileSystem.rename(file.temporary, to: file.path)
            } catch {
                _ = try? file.fileSystem.removeFile(file.temporary)
                throw error
            }
        }
    }

    private mutating func flushFileSystems(_ files: [File]) {
        var flushed: Set<String> = []
        for file in files where file.written && failed[file.root] == nil && flushed.insert(file.root).inserted {
            fsyncs += 1
            attempt(file.root) { () throws(StorageError) in try file.fileSystem.syncFileSystem(file.root) }
        }
    }

    private mutating func attempt(_ root: String, _ body: () throws(StorageError) -> Void) {
        do throws(StorageError) {
            try body()
        } catch {
            if failed[root] == nil { failed[root] = error }
        }
    }
}
