import Testing

@testable import AutomergeRepo

/// `GROUNDMIST_STORAGE_FLUSH` and the automatic choice between `files` and `syncfs`.
@Suite struct FlushModeTests {
    @Test func namedModesParse() {
        #expect(GroupCommit.FlushMode.parse("files") == .files)
        #expect(GroupCommit.FlushMode.parse(" SyncFS ") == .fileSystem)
        #expect(GroupCommit.FlushMode.parse("auto") == GroupCommit.FlushMode.automatic())
        #expect(GroupCommit.FlushMode.parse("") == GroupCommit.FlushMode.automatic())
    }

    @Test(arguments: ["fsync", "sync", "file", "0", "syncfs2"])
    func unknownModesAreRefused(_ text: String) {
        #expect(GroupCommit.FlushMode.parse(text) == nil)
    }

    @Test func kernelReleasesParse() {
        #expect(GroupCommit.FlushMode.parseKernelRelease("6.18.44-fc-v1252").map { [$0.0, $0.1] } == [6, 18])
        #expect(GroupCommit.FlushMode.parseKernelRelease("5.8.0").map { [$0.0, $0.1] } == [5, 8])
        #expect(GroupCommit.FlushMode.parseKernelRelease("4.19-generic").map { [$0.0, $0.1] } == [4, 19])
        #expect(GroupCommit.FlushMode.parseKernelRelease("linux") == nil)
        #expect(GroupCommit.FlushMode.parseKernelRelease("7") == nil)
    }

    #if canImport(Glibc)
    @Test func automaticFollowsTheRunningKernel() throws {
        let (major, minor) = try #require(GroupCommit.FlushMode.kernelVersion())
        let expected: GroupCommit.FlushMode = (major, minor) >= (5, 8) ? .fileSystem : .files
        #expect(GroupCommit.FlushMode.automatic() == expected)
    }
    #endif

    @Test func theModeCanBeChangedForLaterRounds() async {
        let commits = GroupCommit(mode: .files)
        await commits.setMode(.fileSystem)
        #expect(await commits.mode == .fileSystem)
    }
}
