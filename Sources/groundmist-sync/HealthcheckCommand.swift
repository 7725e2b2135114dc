import ATProto
import ArgumentParser
import Foundation
import GroundmistSync
import NIOCore

/// `groundmist-sync healthcheck`: exits 0 when the local server answers `GET /healthz`, so a
/// container HEALTHCHECK or a script needs no curl in the image.
struct HealthcheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthcheck",
        abstract: "Exit 0 if the server on this machine answers /healthz, 1 otherwise.",
        discussion: "Checks http://127.0.0.1:PORT/healthz (PORT from --port, the environment or .env; default 3031)."
    )

    @Option(help: "The server's port. Overrides PORT.")
    var port: Int?

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Int = 3

    func run() async throws {
        let environment = (try? CommandEnvironment.load()) ?? CommandEnvironment(values: [:])
        let resolvedPort = port ?? environment["PORT"].flatMap(Int.init) ?? ServerConfiguration.defaultPort
        guard (1...65535).contains(resolvedPort) else { throw ValidationError("the port must be 1-65535") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        let url = "http://127.0.0.1:\(resolvedPort)/healthz"
        let transport = AsyncHTTPTransport(timeout: .seconds(Int64(timeout)))
        let outcome: String?
        do {
            let response = try await transport.send(HTTPRequestData(method: "GET", url: url), maximumResponseSize: 4096)
            let body = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
            outcome = response.status == 200 && body?["status"] as? String == "ok" ? nil : "\(url) answered HTTP \(response.status)"
        } catch {
            outcome = "\(url): \(error)"
        }
        try? await transport.shutdown()
        if let outcome {
            printError("unhealthy: \(outcome)")
            throw ExitCode.failure
        }
        print("healthy: \(url)")
    }
}
