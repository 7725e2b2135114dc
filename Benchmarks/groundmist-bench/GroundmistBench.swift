import ArgumentParser

/// `groundmist-bench`: every benchmark, one subcommand each, each printing its figures: `server` (a
/// server child under load: clients × documents × changes, one large document, many documents),
/// `inspect` (loading and saving files), `write` (writing documents), `atproto` (signature
/// verification) and `attack` (memory attacks against a server child). Build with `swift build -c release` (which also builds the `groundmist-sync` the server
/// benchmarks start).
@main
struct GroundmistBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groundmist-bench",
        abstract: "Benchmarks for groundmist-sync: a server under load or attack, Automerge files loaded, saved and written, signature checks.",
        subcommands: [
            BenchCommand.self, InspectBenchCommand.self, WriteBenchCommand.self, ATProtoBenchCommand.self, AttackCommand.self,
        ]
    )
}
