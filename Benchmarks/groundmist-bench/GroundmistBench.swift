import ArgumentParser

/// `groundmist-bench`: the benchmarks that drive a server or the Automerge engine, each printing its
/// figures. Build with `swift build -c release` (which also builds the `groundmist-sync` the server
/// benchmarks start).
@main
struct GroundmistBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groundmist-bench",
        abstract: "Benchmarks for groundmist-sync: a server under load, and Automerge files loaded and saved.",
        subcommands: [BenchCommand.self, InspectBenchCommand.self]
    )
}
