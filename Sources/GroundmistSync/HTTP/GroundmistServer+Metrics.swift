import Hummingbird
import NIOCore

extension GroundmistServer {
    /// The content type Prometheus scrapers expect for the text format.
    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    /// `GET /metrics`: the registry in Prometheus text format. Only aggregate counts, no ids or
    /// tokens, so it is served without authentication like `/healthz`; restrict it at the proxy
    /// if the figures themselves are sensitive.
    static func addMetricsRoute(to router: Router<GroundmistRequestContext>, metrics: GroundmistMetrics) {
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: metricsContentType],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition()))
            )
        }
    }
}
