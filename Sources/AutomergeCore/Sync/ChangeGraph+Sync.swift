extension ChangeGraph {
    /// The next message for the peer whose state is `state`, or nil when there is nothing to
    /// say (docs/sync-protocol.md §5, the current reference algorithm).
    ///
    /// A "whole document" reply to a V2 peer carries what `wholeDocument` returns: the saved
    /// document (`saveDocument()`, as the reference sends), which callers cache by heads since it
    /// costs a replay of every change. Without it, or when it returns nil, the reply is the
    /// concatenation of every change chunk in topological order: valid V2 content that any V2
    /// reader loads, though several times larger.
    package func generateSyncMessage(
        _ state: inout SyncState,
        wholeDocument: (() -> [UInt8]?)? = nil
    ) -> SyncMessage? {
        generateSyncMessage(&state, storedDocument: nil, wholeDocument: wholeDocument)
    }

    /// The changes the next message to this peer would carry, and whether as the whole document:
    /// lets a caller fetch what the graph does not hold first (the stored document, or the bytes
    /// of changes kept only in it) and pass them in.
    package func plannedChanges(_ state: SyncState) -> (hashes: [ChangeHash], wholeDocument: Bool) {
        let (hashes, whole) = selectChanges(state)
        return (hashes, whole && state.peerSupportsV2 && count > 0)
    }

    /// What to send: the whole document (docs/sync-protocol.md §5), or these hashes. Nothing this session has
    /// already sent is sent again: after a whole document the peer's sent hashes are all ours, so
    /// a peer that keeps saying "I have nothing" before it has read it is not sent it again.
    private func selectChanges(_ state: SyncState) -> (hashes: [ChangeHash], whole: Bool) {
        guard !state.peerReadOnly, let theirHave = state.theirHave, let theirNeed = state.theirNeed else { return ([], false) }
        if state.theirHeads == [] && state.peerSupportsV2 {
            if count > 0 && state.sentHashes.count >= count && allHashes.allSatisfy({ state.sentHashes.contains($0) }) {
                return ([], false)
            }
            return (allHashes, true)
        }
        let hashes = hashesToSendFor(have: theirHave, need: theirNeed, theirHeads: state.theirHeads ?? [])
            .filter { !state.sentHashes.contains($0) }
        if state.peerSupportsV2 && hashes.count > count / 3 { return (allHashes, true) }
        return (hashes, false)
    }

    /// `generateSyncMessage` where a whole-document reply carries `storedDocument` when given (the
    /// stored snapshot and incrementals as they are), else what `wholeDocument` returns, else every
    /// change chunk. Chunks the graph does not hold are taken from `supplied`.
    package func generateSyncMessage(
        _ state: inout SyncState,
        storedDocument: [UInt8]?,
        supplied: [ChangeHash: ChangeChunk] = [:],
        wholeDocument: (() -> [UInt8]?)? = nil
    ) -> SyncMessage? {
        let ourHeads = heads
        let theirHeads = state.theirHeads ?? []

        let ourNeed = state.readOnly ? [] : missingDeps(from: theirHeads)

        var ourHave: [SyncHave] = []
        let theirHeadSet = Set(theirHeads)
        if ourNeed.allSatisfy({ theirHeadSet.contains($0) }) {
            ourHave = [SyncHave(lastSync: state.sharedHeads, bloom: BloomFilter(hashes: changes(notAncestorsOf: state.sharedHeads)))]
        }

        // The peer's last sync point is unknown to us: ask it to start over.
        if let firstHave = state.theirHave?.first, !containsAll(firstHave.lastSync) {
            return SyncMessage(version: .v1, heads: ourHeads, need: [], have: [SyncHave()], changes: [], trailer: trailer(for: state))
        }

        let (hashesToSend, sendWholeDocument) = selectChanges(state)

        if state.lastSentHeads == ourHeads && state.haveResponded {
            if (state.theirHeads == ourHeads || state.readOnly) && hashesToSend.isEmpty { return nil }
            if state.inFlight { return nil }
        }

        let version: SyncMessage.Version = state.peerSupportsV2 ? .v2 : .v1
        let document = sendWholeDocument && version == .v2 && count > 0 ? (storedDocument ?? wholeDocument?()) : nil
        let chunks = document == nil ? hashesToSend.compactMap { chunk(for: $0) ?? supplied[$0] } : []
        let entries: [[UInt8]]
        if let document {
            entries = [document]
        } else if chunks.isEmpty {
            entries = []
        } else if version == .v2 {
            var blob: [UInt8] = []
            blob.reserveCapacity(chunks.reduce(0) { $0 + $1.bytes.count })
            for chunk in chunks { blob.append(contentsOf: chunk.bytes) }
            entries = [blob]
        } else {
            entries = chunks.map(\.bytes)
        }

        var heads = ourHeads
        var resetFlag = false
        if state.needsReset {
            state.needsReset = false
            if state.theirCapabilities?.supportsSyncReset == true { resetFlag = true } else { heads = [] }
        }
        state.haveResponded = true
        state.lastSentHeads = ourHeads
        state.sentHashes.formUnion(hashesToSend)
        state.inFlight = true
        var flags: SyncFlags = [.supportsSyncReset]
        if state.readOnly { flags.insert(.readOnly) }
        if resetFlag { flags.insert(.syncReset) }
        return SyncMessage(version: version, heads: heads, need: ourNeed, have: ourHave, changes: entries, trailer: .current(flags))
    }

    /// Whether every hash is in the graph; a loop, as no closure over `self` copies the graph.
    private func containsAll(_ hashes: [ChangeHash]) -> Bool {
        for hash in hashes where !contains(hash) { return false }
        return true
    }

    /// The hashes that are in the graph, in order (without a closure over `self`, see `containsAll`).
    private func known(_ hashes: [ChangeHash]) -> [ChangeHash] {
        var known: [ChangeHash] = []
        known.reserveCapacity(hashes.count)
        for hash in hashes where contains(hash) { known.append(hash) }
        return known
    }

    private func trailer(for state: SyncState) -> SyncTrailer {
        var flags: SyncFlags = [.supportsSyncReset]
        if state.readOnly { flags.insert(.readOnly) }
        return .current(flags)
    }

    /// getHashesToSend (docs/sync-protocol.md §5): their explicit needs, then every change since their last
    /// sync that none of their Bloom filters contains, plus everything depending on those
    /// (which repairs Bloom false positives).
    ///
    /// Unlike the reference, a change that is one of `theirHeads` or an ancestor of one is never
    /// sent unasked: the peer has it by its own account. The reference sends it back when the Bloom
    /// filter misses it, so a peer that uploads changes with an empty filter (or a stale one) would
    /// get every one of them echoed: as many bytes again, queued for it. Explicit needs are kept.
    func hashesToSendFor(have: [SyncHave], need: [ChangeHash], theirHeads: [ChangeHash] = []) -> [ChangeHash] {
        let needed = known(need)
        guard !have.isEmpty else { return needed }
        var lastSync: Set<ChangeHash> = []
        for entry in have { lastSync.formUnion(entry.lastSync) }
        var candidates = indexesNotAncestors(of: Array(lastSync))
        let knownHeads = known(theirHeads)
        if !knownHeads.isEmpty && !candidates.isEmpty {
            let theyLack = Set(indexesNotAncestors(of: knownHeads))
            candidates = candidates.filter { theyLack.contains($0) }
        }
        var marked: Set<Int32> = []
        var result: [ChangeHash] = []
        var markedHashes: [ChangeHash] = []
        for index in candidates {
            let hash = hash(at: index)
            let missing =
                have.allSatisfy { !$0.bloom.contains(hash) } || deps(at: index).contains { marked.contains($0) }
            if missing {
                marked.insert(Int32(index))
                markedHashes.append(hash)
            }
        }
        let markedSet = Set(markedHashes)
        for hash in needed where !markedSet.contains(hash) { result.append(hash) }
        result.append(contentsOf: markedHashes)
        return result
    }

    /// What applying a sync message did.
    package struct SyncReceiveResult: Sendable, Equatable {
        /// Changes applied (in order), including queued ones they unblocked.
        package var applied: [ChangeHash] = []
        /// Changes now waiting for missing deps.
        package var queued = 0
        /// The received chunks as they arrived (when any was new).
        package var received: [UInt8]?
        /// Every chunk in `received` is new (applied or queued) and uncompressed: it can go to disk as
        /// it is, copied no further.
        package var receivedIsExact = false
        /// `received` is a whole document (a document chunk first, possibly followed by change
        /// chunks) loaded into an empty graph: it can be stored as the snapshot unchanged.
        package var receivedWholeDocument = false
    }

    /// Applies a message from the peer whose state is `state` (docs/sync-protocol.md §6). Changes are applied
    /// atomically: a malformed change rejects the whole message and leaves graph and state
    /// unchanged.
    @discardableResult
    package mutating func receiveSyncMessage(
        _ state: inout SyncState,
        _ message: SyncMessage,
        inflation: InflationLimits = .syncMessage
    ) throws(AutomergeError) -> SyncReceiveResult {
        let beforeHeads = heads
        var result = SyncReceiveResult()
        let hasChanges = !message.changes.isEmpty

        if hasChanges && !state.readOnly {
            // One entry (every V2 message, and V1 messages of one change) is loaded as it is.
            var stream: [UInt8]
            if message.changes.count == 1 {
                stream = message.changes[0]
            } else {
                stream = []
                stream.reserveCapacity(message.changes.reduce(0) { $0 + $1.count })
                for entry in message.changes { stream.append(contentsOf: entry) }
            }
            let wasEmpty = count == 0 && queuedCount == 0
            let summary = try load(stream, inflation: inflation)
            result.applied = summary.result.applied
            result.queued = summary.result.queued
            if !(result.applied.isEmpty && result.queued == 0) {
                result.received = stream
                // A whole document loaded into an empty graph may repeat some of its changes after the
                // document chunk (real files do): stored as it came, it loads to the same document.
                result.receivedWholeDocument =
                    summary.chunks.compressed == 0 && wasEmpty && summary.chunks.document == 1 && stream.count > 8 && stream[8] == 0
                result.receivedIsExact = result.receivedWholeDocument || (summary.result.duplicates == 0 && summary.chunks.compressed == 0)
            }
        }

        state.inFlight = false
        if let trailer = message.trailer {
            let flags = trailer.flags
            state.theirCapabilities = SyncState.Capabilities(supportsSyncReset: flags.contains(.supportsSyncReset))
            if flags.contains(.syncReset) { state.sentHashes.removeAll() }
            state.peerReadOnly = flags.contains(.readOnly)
        }

        if hasChanges && !state.readOnly {
            let after = heads
            let before = Set(beforeHeads)
            let afterSet = Set(after)
            var shared = Set(after.filter { !before.contains($0) })
            shared.formUnion(state.sharedHeads.filter { afterSet.contains($0) })
            state.sharedHeads = shared.sorted()
        }

        // Forget sent hashes the peer now has (ancestors of, or equal to, its known heads).
        let knownHeads = known(message.heads)
        if !state.sentHashes.isEmpty && !knownHeads.isEmpty {
            let notCovered = Set(changes(notAncestorsOf: knownHeads))
            state.sentHashes = state.sentHashes.filter { notCovered.contains($0) || !contains($0) }
        }

        if !hasChanges && message.heads == beforeHeads { state.lastSentHeads = message.heads }

        if knownHeads.count == message.heads.count {
            state.sharedHeads = message.heads
            // A peer that had data and now has none lost it: start over. One that still has none
            // is answered from its state as it is, so a whole document already sent this session
            // is not queued again for every "I have nothing" it sends before reading it.
            if message.heads.isEmpty && state.theirHeads?.isEmpty == false {
                state.lastSentHeads = []
                state.sentHashes = []
            }
        } else {
            state.sharedHeads = Array(Set(state.sharedHeads).union(knownHeads)).sorted()
        }

        state.theirHave = message.have
        state.theirHeads = message.heads
        state.theirNeed = message.need
        return result
    }
}
