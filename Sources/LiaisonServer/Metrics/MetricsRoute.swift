import NIOHTTP1

/// What a request to the metrics endpoint asks for.
enum MetricsRoute: Sendable, Equatable {
    /// `GET /metrics`: the Prometheus text exposition format.
    case metrics
    /// `GET /healthz`: the process is alive and serving.
    case health
    /// `GET /readyz`: the database answers, the schema is current, the writer is not stalled.
    case ready

    /// Maps a request line to a route, or to the answer that refuses it: 405 for a method other
    /// than GET (with `Allow: GET`), 404 for an unknown path. A query string is ignored.
    ///
    /// - Parameters:
    ///   - method: The request's method.
    ///   - uri: The request target (`/metrics?x=1`).
    static func parse(method: HTTPMethod, uri: String) -> MetricsRequest {
        let path =
            uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let route: MetricsRoute
        switch path {
        case "/metrics": route = .metrics
        case "/healthz": route = .health
        case "/readyz": route = .ready
        default:
            return .refused(
                HTTPAnswer.text(.notFound, "not found: \(path.prefix(100)) (try /metrics, /healthz, /readyz)\n")
            )
        }
        guard method == .GET else {
            var answer = HTTPAnswer.text(.methodNotAllowed, "method not allowed: only GET\n")
            answer.headers.add(name: "Allow", value: "GET")
            return .refused(answer)
        }
        return .route(route)
    }
}

/// A request as the gate sees it: a route to answer, or a refusal to send as it is.
enum MetricsRequest: Sendable, Equatable {
    case route(MetricsRoute)
    case refused(HTTPAnswer)
}

/// A complete HTTP response of the metrics endpoint.
struct HTTPAnswer: Sendable, Equatable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: [UInt8]

    /// A `text/plain` answer.
    static func text(_ status: HTTPResponseStatus, _ text: String) -> HTTPAnswer {
        HTTPAnswer(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array(text.utf8))
    }
}
