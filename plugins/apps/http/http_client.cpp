// http client: repeated fetches of one path, the keys and the report; see http_client.hpp.
#include "http_client.hpp"

#include <algorithm>

#include "http_request.hpp"
#include "tcp_app_support.hpp"

namespace netloom::apps {

namespace {

double to_us(Time t) noexcept {
    return static_cast<double>(t.count()) / 1e3;
}

// Transactions in a row that take no time before a `duration` run is declared stuck (a virtual
// clock over a link with neither latency nor rate), as in the rr client.
constexpr std::uint64_t kStuckFetches = 10'000;

}  // namespace

HttpClientOptions HttpClientOptions::from_config(const Config& config) {
    HttpClientOptions o;
    o.target = read_target(config);
    o.port = read_port(config, "port", 80);
    o.path = config.get_string("path", "/");
    if (!o.path.starts_with('/') || o.path.find_first_of(" \r\n\t") != std::string::npos ||
        o.path.size() > 4096) {
        config.fail("path", "an origin-form target such as /big.bin", o.path);
    }
    if (config.has("duration") && config.has("count")) {
        config.fail_message("count", "give `duration` or `count`, not both");
    }
    if (config.has("count")) {
        o.count = static_cast<std::uint64_t>(config.get_int("count", {}, 1, 1'000'000'000));
    } else {
        o.duration = config.get_duration("duration", std::chrono::seconds(2), Time{1});
    }
    o.keep_alive = config.get_bool("keep_alive", true);
    o.requests_per_connection =
        static_cast<std::uint64_t>(config.get_int("requests_per_connection", 0, 0, 1'000'000'000));
    if (!o.keep_alive && o.requests_per_connection > 1)
        config.fail_message("requests_per_connection",
                            "requests_per_connection needs keep_alive: true (without it every "
                            "connection carries one request)");
    o.timeout = config.get_duration("timeout", std::chrono::seconds(60), Time{1});
    o.report = config.get_string("report", "");
    return o;
}

HttpClient::HttpClient(HttpClientOptions options, TcpEngine& tcp, Scheduler& scheduler,
                       std::shared_ptr<spdlog::logger> log)
    : options_(std::move(options)),
      tcp_(tcp),
      scheduler_(scheduler),
      log_(std::move(log)),
      request_("GET " + options_.path + " HTTP/1.1\r\nHost: " + options_.target.to_string() +
               "\r\n" + (options_.keep_alive ? "" : "Connection: close\r\n") + "\r\n"),
      buffer_(kTcpAppChunk),
      scope_(scheduler) {}

HttpClient::~HttpClient() = default;

void HttpClient::start(std::function<void(int)> finished) {
    finished_ = std::move(finished);
    scope_.spawn(run());
}

bool HttpClient::fail(std::string why) {
    if (failure_.empty()) failure_ = std::move(why);
    return false;
}

Task<void> HttpClient::run() {
    const Time start = scheduler_.now();
    std::optional<Time> first_begin;
    Time last_end = start;
    std::uint64_t still = 0;      // fetches in a row that took no time
    std::uint64_t on_stream = 0;  // fetches on the current connection
    TcpStream stream;
    while (failure_.empty()) {
        const Time begin = scheduler_.now();
        if (options_.count ? fetches_ >= *options_.count
                           : fetches_ > 0 && begin >= start + *options_.duration) {
            break;
        }
        const Time deadline = begin + options_.timeout;
        if (!stream) {
            stream = co_await open(deadline);
            if (!stream) break;
            on_stream = 0;
        }
        bool server_closes = false;
        const bool ok = co_await fetch(stream, deadline, server_closes);
        if (!ok) break;
        last_end = scheduler_.now();
        if (!first_begin) first_begin = begin;
        ++fetches_;
        still = last_end > begin ? 0 : still + 1;
        if (options_.duration && still >= kStuckFetches) {
            fail(
                "fetches take no time: the scheduler's clock stands still (a virtual clock over "
                "a link with neither latency nor rate?); use `count` instead of `duration`");
            break;
        }
        const bool enough =
            options_.requests_per_connection > 0 && ++on_stream >= options_.requests_per_connection;
        if (!options_.keep_alive || server_closes || enough) {
            const bool closed = co_await finish_stream(stream, scheduler_.now() + options_.timeout);
            if (!closed) break;
            stream = TcpStream();
        }
    }
    if (stream && failure_.empty())
        co_await finish_stream(stream, scheduler_.now() + options_.timeout);
    if (failure_.empty() && fetches_ == 0) fail("no fetch completed");
    const bool reported =
        report_logged(*log_, "http client", [&] { report(first_begin.value_or(start), last_end); });
    if (finished_) finished_(failure_.empty() && reported ? 0 : 1);
}

Task<TcpStream> HttpClient::open(Time deadline) {
    TcpStream stream =
        co_await tcp_connect(scheduler_, tcp_, {options_.target, options_.port}, deadline);
    if (!stream) {
        ++errors_;
        fail(connect_failure(stream, {options_.target, options_.port}));
        co_return stream;
    }
    ++connections_;
    co_return stream;
}

Task<bool> HttpClient::fetch(TcpStream& stream, Time deadline, bool& server_closes) {
    const Time begin = scheduler_.now();
    const std::string what = "GET " + options_.path + " (fetch " + std::to_string(fetches_) + ")";
    const IoResult w = co_await stream.write_all(
        {reinterpret_cast<const std::uint8_t*>(request_.data()), request_.size()}, deadline);
    if (!w.ok()) {
        ++errors_;
        co_return fail(what + ": sending the request: " + std::string(to_string(w.status)));
    }
    std::size_t used = 0, head_end = 0, scanned = 0;
    std::optional<Time> first_byte;
    const auto text = [&] {
        return std::string_view(reinterpret_cast<char*>(buffer_.data()), used);
    };
    while ((head_end = find_head_end(text(), scanned)) == std::string_view::npos) {
        scanned = used >= 2 ? used - 2 : 0;
        if (used == buffer_.size()) co_return fail(what + ": a response head over 64 KiB");
        const IoResult r = co_await stream.read(std::span(buffer_).subspan(used), deadline);
        if (!r.ok()) {
            ++errors_;
            co_return fail(what +
                           ": reading the response head: " + std::string(to_string(r.status)));
        }
        if (!first_byte) first_byte = scheduler_.now();
        used += r.bytes;
    }
    const auto head = parse_response_head(text().substr(0, head_end));
    if (!head) co_return fail(what + ": a malformed response head");
    if (head->status != 200) {
        co_return fail(what + ": status " + std::to_string(head->status) + " instead of 200");
    }
    if (!head->content_length) co_return fail(what + ": a response without Content-Length");
    server_closes = head->close;
    const std::uint64_t length = *head->content_length;
    std::uint64_t got = used - head_end;
    if (got > length) co_return fail(what + ": more bytes than the Content-Length");
    while (got < length) {
        const auto want =
            static_cast<std::size_t>(std::min<std::uint64_t>(buffer_.size(), length - got));
        const IoResult r = co_await stream.read(std::span(buffer_).first(want), deadline);
        if (!r.ok()) {
            ++errors_;
            co_return fail(what + ": the body ended after " + std::to_string(got) + " of " +
                           std::to_string(length) + " bytes: " + std::string(to_string(r.status)));
        }
        got += r.bytes;
    }
    body_bytes_ += length;
    latency_.add(scheduler_.now() - begin);
    first_byte_.add(*first_byte - begin);
    co_return true;
}

Task<bool> HttpClient::finish_stream(TcpStream& stream, Time deadline) {
    stream.shutdown();
    std::uint8_t extra = 0;
    const IoResult r = co_await stream.read({&extra, 1}, deadline);
    if (r.ok()) co_return fail("the server sent bytes after the last response");
    if (r.status != IoStatus::eof) {
        ++errors_;
        co_return fail("waiting for the server to close: " + std::string(to_string(r.status)));
    }
    const IoResult closed = co_await stream.close(deadline);
    if (!closed.ok()) {
        ++errors_;
        co_return fail("closing: " + std::string(to_string(closed.status)));
    }
    co_return true;
}

void HttpClient::report(Time from, Time to) {
    const double seconds = to_seconds(to - from);
    const double mb_per_s = seconds > 0 ? static_cast<double>(body_bytes_) / 1e6 / seconds : 0.0;
    log_->info(
        "http client {}:{}{}: {} fetches, {} B in {:.3f} s, {:.1f} MB/s, latency p50 {:.0f} "
        "us p99 {:.0f} us{}",
        options_.target.to_string(), options_.port, options_.path, fetches_, body_bytes_, seconds,
        mb_per_s, to_us(latency_.quantile(0.5)), to_us(latency_.quantile(0.99)),
        failure_.empty() ? "" : " (FAILED: " + failure_ + ")");
    if (options_.report.empty()) return;
    nlohmann::json report;
    report["metrics"] = {{"mb_per_s", mb_per_s},
                         {"latency_p50_us", to_us(latency_.quantile(0.5))},
                         {"latency_p99_us", to_us(latency_.quantile(0.99))},
                         {"ttfb_p50_us", to_us(first_byte_.quantile(0.5))}};
    report["path"] = options_.path;
    report["fetches"] = fetches_;
    report["connections"] = connections_;
    report["body_bytes"] = body_bytes_;
    report["seconds"] = seconds;
    report["latency_us"] = {{"min", to_us(latency_.min())},
                            {"p50", to_us(latency_.quantile(0.5))},
                            {"p99", to_us(latency_.quantile(0.99))},
                            {"max", to_us(latency_.max())}};
    report["errors"] = errors_;
    report["ok"] = failure_.empty();
    report["error"] = failure_.empty() ? nlohmann::json(nullptr) : nlohmann::json(failure_);
    write_json_report(options_.report, report);
}

void HttpClient::visit_counters(const CounterVisitor& visit) const {
    visit("fetches", fetches_);
    visit("connections", connections_);
    visit("body_bytes", body_bytes_);
    visit("errors", errors_);
    visit("latency_us_p50", static_cast<std::uint64_t>(to_us(latency_.quantile(0.5))));
    visit("latency_us_p99", static_cast<std::uint64_t>(to_us(latency_.quantile(0.99))));
}

}  // namespace netloom::apps
