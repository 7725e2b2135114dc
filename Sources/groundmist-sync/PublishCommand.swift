import ATProto
import ArgumentParser
import Foundation
import GroundmistSync
import NIOCore

/// `groundmist-sync publish HOST`: tells the Groundmist apps where this server is.
struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish the server's location (xyz.groundmist.sync record) to your ATProto repo.",
        discussion: """
            Logs in to your PDS with an app password (com.atproto.server.createSession) and writes \
            the record xyz.groundmist.sync/<your DID> = {"host": HOST}, which the Groundmist apps \
            read to find this server. HOST is the public host name without a scheme, e.g. \
            sync.example.com (a :port is allowed).

            The account comes from --handle, else ATPROTO_HANDLE, else ATPROTO_DID (the server's \
            owner); the app password from ATPROTO_APP_PASSWORD, else a prompt that does not echo. \
            --password exists for completeness but leaves the password in your shell history and \
            the process list. The PDS is found from your DID document unless --pds (or \
            ATPROTO_PDS_URL) names it. Settings may also come from a .env file in the working directory.
            """
    )

    @Argument(help: "The server's public host, without https:// (e.g. sync.example.com).")
    var host: String

    @Option(help: "Your handle or DID. Default: ATPROTO_HANDLE, then ATPROTO_DID.")
    var handle: String?

    @Option(help: "App password (prefer ATPROTO_APP_PASSWORD or the prompt).")
    var password: String?

    @Option(help: "Your PDS, e.g. https://bsky.social. Default: ATPROTO_PDS_URL, then the one in your DID document.")
    var pds: String?

    @Option(name: .customLong("plc-url"), help: "PLC directory for did:plc documents. Default: PLC_URL, then https://plc.directory.")
    var plcURL: String?

    @Option(
        name: .customLong("handle-resolver"),
        help:
            "XRPC service that resolves handles. Default: ATPROTO_HANDLE_RESOLVER, then the handle's own /.well-known/atproto-did and https://public.api.bsky.app."
    )
    var handleResolver: String?

    func run() async throws {
        let environment: CommandEnvironment
        do {
            environment = try CommandEnvironment.load()
        } catch {
            throw ValidationError("cannot read .env: \(error)")
        }
        guard let identifier = handle ?? environment["ATPROTO_HANDLE"] ?? environment["ATPROTO_DID"] else {
            throw ValidationError("which account? Pass --handle alice.example.com (or set ATPROTO_HANDLE)")
        }
        guard let secret = password ?? environment["ATPROTO_APP_PASSWORD"] ?? PasswordPrompt.readSecret(prompt: "App password for \(identifier): ")
        else {
            throw ValidationError("no app password: set ATPROTO_APP_PASSWORD or run from a terminal to be asked for it")
        }
        guard !secret.isEmpty else { throw ValidationError("the app password is empty") }

        let transport = AsyncHTTPTransport(timeout: .seconds(15))
        let publisher = LocationPublisher(
            transport: transport,
            plcURL: plcURL ?? environment["PLC_URL"] ?? AuthenticationConfiguration.defaultPLCURL,
            handleResolver: handleResolver ?? environment["ATPROTO_HANDLE_RESOLVER"]
        )
        let result: Result<LocationPublisher.Published, PublishError>
        do {
            result = .success(
                try await publisher.publish(host: host, identifier: identifier, password: secret, pds: pds ?? environment["ATPROTO_PDS_URL"])
            )
        } catch {
            result = .failure(error)
        }
        try? await transport.shutdown()
        switch result {
        case .success(let published):
            print("published \(published.uri) (cid \(published.cid)) on \(published.pds): host \(host)")
        case .failure(let error):
            printError(error.description)
            throw ExitCode.failure
        }
    }
}
