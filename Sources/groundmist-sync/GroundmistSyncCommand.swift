import ArgumentParser
import GroundmistSync

@main
struct GroundmistSyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groundmist-sync",
        abstract: "A personal Automerge sync server for an ATProto identity.",
        version: GroundmistVersion.current,
        subcommands: [
            ServeCommand.self, SessionsCommand.self, TokenCommand.self, InspectCommand.self,
            ExportCommand.self, PublishCommand.self, HealthcheckCommand.self, BackupCommand.self, RestoreCommand.self,
        ],
        defaultSubcommand: ServeCommand.self
    )
}
