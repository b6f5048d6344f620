// http_client.hpp — the `http` app's client role (`role: client`): fetches one path over and
// over, timing each fetch, and reports MB/s and latency percentiles (the workload of
// configs/ab_block.yaml).
//
// Contract: finite. A fetch is "GET <path> HTTP/1.1"; it succeeds when the response is 200 with
// a Content-Length and exactly that many body bytes arrive within `timeout` of its start.
// Anything else (another status, no Content-Length, a reset, an early end, the timeout) fails
// the run: the first problem becomes the report's error and the app finishes with 1. Fetches
// run back to back on one kept connection (a new one when the server closes it), or on a new
// connection each with `keep_alive: false`; a connection ends with our FIN, the server's FIN and
// a close. With `requests_per_connection: N` a kept connection is closed by us after N fetches
// and the next fetch opens a new one (closing first, the client holds the TIME-WAITs): many
// connections with several requests each, as the leak soak (tests/soak/leak.py) needs. It stops
// after `count` fetches or once `duration` has passed (finishing the fetch under way). Memory: one
// 64 KiB buffer and the request. The report's "metrics": mb_per_s (body bytes / 10^6 / seconds from
// the first request to the last byte), latency_p50_us and latency_p99_us (per fetch, from writing
// the request to the last body byte), ttfb_p50_us (to the first byte of the response).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

#include "http_request.hpp"
#include "latency_histogram.hpp"
#include "netloom/app.hpp"
#include "netloom/config.hpp"
#include "netloom/ip.hpp"
#include "netloom/tcp.hpp"
#include "stream.hpp"
#include "task_scope.hpp"

namespace netloom::apps {

struct HttpClientOptions {
    Ipv4Address target;
    std::uint16_t port = 80;
    std::string path = "/";
    std::optional<std::uint64_t> count;  ///< fetches, or
    std::optional<Time> duration;        ///< fetch until this has passed
    bool keep_alive = true;
    std::uint64_t requests_per_connection = 0;  ///< close a kept connection after N (0: never)
    Time timeout = std::chrono::seconds(60);    ///< bound on one fetch, its connect included
    std::string report;

    /// The client keys (`role` read by the caller); ConfigError at the key.
    static HttpClientOptions from_config(const Config& config);
};

class HttpClient final : public App {
public:
    HttpClient(HttpClientOptions options, TcpEngine& tcp, Scheduler& scheduler,
               std::shared_ptr<spdlog::logger> log);
    ~HttpClient() override;
    void start(std::function<void(int status)> finished) override;
    bool finite() const noexcept override { return true; }
    void visit_counters(const CounterVisitor& visit) const override;

private:
    Task<void> run();
    Task<TcpStream> open(Time deadline);
    /// One request and its response; false (after failing the run) on any problem. Sets
    /// `server_closes` when the response says the connection ends after it.
    Task<bool> fetch(TcpStream& stream, Time deadline, bool& server_closes);
    /// Our FIN, the server's, the close.
    Task<bool> finish_stream(TcpStream& stream, Time deadline);
    bool fail(std::string why);
    void report(Time from, Time to);

    HttpClientOptions options_;
    TcpEngine& tcp_;
    Scheduler& scheduler_;
    std::shared_ptr<spdlog::logger> log_;
    std::function<void(int)> finished_;
    std::string request_;
    std::vector<std::uint8_t> buffer_;
    LatencyHistogram latency_, first_byte_;
    std::string failure_;
    std::uint64_t fetches_ = 0, connections_ = 0, body_bytes_ = 0, errors_ = 0;
    TaskScope scope_;  // last
};

}  // namespace netloom::apps
