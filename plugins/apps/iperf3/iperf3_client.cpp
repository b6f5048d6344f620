// iperf3 client: one test against an iperf3 server, following the server's state bytes on the
// control connection; the data streams send (or, reverse, receive) until the time or byte
// limit, then TEST_END, the results exchange, IPERF_DONE and a JSON report.
#include <algorithm>
#include <array>

#include "iperf3.hpp"
#include "tcp_app_support.hpp"

namespace netloom::apps {

using namespace iperf3;

Iperf3Client::Iperf3Client(Iperf3Options options, TcpEngine& tcp, Scheduler& scheduler,
                           std::shared_ptr<spdlog::logger> log)
    : options_(std::move(options)),
      tcp_(tcp),
      scheduler_(scheduler),
      log_(std::move(log)),
      random_(std::random_device{}()),
      progress_(scheduler),
      scope_(std::make_unique<TaskScope>(scheduler)) {}

Iperf3Client::~Iperf3Client() {
    scope_.reset();
    workers_.reset();
}

void Iperf3Client::start(std::function<void(int)> finished) {
    finished_ = std::move(finished);
    scope_->spawn(run());
}

void Iperf3Client::visit_counters(const CounterVisitor& visit) const {
    visit("bytes", total_bytes());
    visit("streams", streams_.size());
    visit("failures", failures_);
}

std::uint64_t Iperf3Client::total_bytes() const {
    std::uint64_t sum = 0;
    for (const auto& s : streams_) sum += s->bytes;
    return sum;
}

Task<void> Iperf3Client::run() {
    const std::string error = co_await drive();
    workers_.reset();
    if (!error.empty()) {
        ++failures_;
        log_->error("iperf3 client {}:{}: {}", options_.target.to_string(), options_.port, error);
    }
    try {
        write_report(error);
    } catch (const std::exception& e) {
        log_->error("iperf3 client: {}", e.what());
    }
    auto finished = std::move(finished_);
    if (finished) finished(error.empty() ? 0 : 1);
}

Task<std::string> Iperf3Client::drive() {
    auto step = [this] { return scheduler_.now() + options_.timeout; };
    cookie_ = make_cookie(random_);
    TcpConnectOptions connect_options;
    connect_options.nodelay = true;  // iperf3 sets TCP_NODELAY on the control connection
    TcpStream control = co_await tcp_connect(scheduler_, tcp_, {options_.target, options_.port},
                                             step(), connect_options);
    if (!control) co_return "connect: " + std::string(to_string(control.status()));
    if (!(co_await control.write_all(cookie_, step())).ok())
        co_return "control connection lost sending the cookie";
    for (;;) {
        StateRead s = co_await read_state(control, step());
        if (s.status != IoStatus::ok) {
            co_return "control connection: " + std::string(to_string(s.status)) +
                " waiting for the server's next state";
        }
        switch (s.state) {
            case param_exchange:
                if (co_await write_json(control, params_to_json(options_.params), step()) !=
                    IoStatus::ok)
                    co_return "control connection lost sending the parameters";
                break;
            case State::create_streams:
                if (std::string e = co_await create_streams(); !e.empty()) co_return e;
                break;
            case test_start: break;
            case test_running:
                if (std::string e = co_await run_test(); !e.empty()) co_return e;
                if (co_await send_state(control, test_end, step()) != IoStatus::ok)
                    co_return "control connection lost sending TEST_END";
                break;
            case State::exchange_results:
                if (std::string e = co_await exchange_results(control); !e.empty()) co_return e;
                break;
            case display_results:
                if (co_await send_state(control, iperf_done, step()) != IoStatus::ok)
                    co_return "control connection lost sending IPERF_DONE";
                co_await control.close(step());
                co_return "";
            case access_denied: co_return "the server is busy (ACCESS_DENIED)";
            case server_error: {
                std::array<std::uint8_t, 8> codes{};
                co_await control.read_exact(codes, step());
                const auto word = [&](std::size_t i) {
                    return static_cast<std::int32_t>(
                        (std::uint32_t{codes[i]} << 24) | (std::uint32_t{codes[i + 1]} << 16) |
                        (std::uint32_t{codes[i + 2]} << 8) | codes[i + 3]);
                };
                co_return "SERVER_ERROR (iperf3 error " + std::to_string(word(0)) + ", errno " +
                    std::to_string(word(4)) + ")";
            }
            case server_terminate: co_return "the server terminated the test";
            default: co_return "unexpected " + state_name(s.state) + " from the server";
        }
    }
}

Task<std::string> Iperf3Client::create_streams() {
    // One at a time, as iperf3 does: the server numbers streams in the order they arrive.
    for (std::uint32_t i = 0; i < options_.params.parallel; ++i) {
        const Time deadline = scheduler_.now() + options_.timeout;
        TcpStream s =
            co_await tcp_connect(scheduler_, tcp_, {options_.target, options_.port}, deadline);
        if (!s) co_return "data stream connect: " + std::string(to_string(s.status()));
        if (!(co_await s.write_all(cookie_, deadline)).ok())
            co_return "data stream lost sending the cookie";
        streams_.push_back(std::make_unique<StreamState>(std::move(s)));
        streams_.back()->id = stream_id(i);
    }
    co_return "";
}

Task<std::string> Iperf3Client::run_test() {
    const TestParams& p = options_.params;
    if (streams_.size() != p.parallel) co_return "TEST_RUNNING before the data streams";
    if (!p.reverse) {
        payload_.resize(p.length);
        for (auto& b : payload_) b = static_cast<std::uint8_t>(random_());
    }
    test_start_ = scheduler_.now();
    cpu_start_ = CpuTimes::now();
    workers_ = std::make_unique<TaskScope>(scheduler_);
    for (auto& s : streams_) workers_->spawn(p.reverse ? receive_stream(*s) : send_stream(*s));

    const std::uint64_t limit = p.byte_limit();
    const Time end =
        p.time_s > 0 ? test_start_ + std::chrono::seconds(p.time_s + p.omit_s) : kNoDeadline;
    std::string error;
    for (;;) {
        const std::uint64_t total = total_bytes();
        if (limit != 0 && total >= limit) break;
        if (scheduler_.now() >= end) break;
        const auto failed = std::find_if(streams_.begin(), streams_.end(),
                                         [](const auto& s) { return s->end != IoStatus::ok; });
        if (failed != streams_.end()) {
            error = "data stream " + std::to_string((*failed)->id) +
                    " ended early: " + std::string(to_string((*failed)->end));
            break;
        }
        // No limit reached: wait for a worker's news, the end time, or a stall check: no
        // byte moved during this whole wait (`total` is from just before it).
        const Time stall_check = scheduler_.now() + options_.timeout;
        // (The co_await on a statement of its own: inside the && below, GCC 12 did not stop
        // the loop when the condition held.)
        const bool news = co_await progress_.wait(std::min(end, stall_check));
        if (!news && scheduler_.now() >= stall_check && total_bytes() == total) {
            error = "no data moved for " + std::to_string(to_seconds(options_.timeout)) + " s";
            break;
        }
    }
    test_end_ = scheduler_.now();
    workers_.reset();
    if (!p.reverse && error.empty()) {
        // The server stops counting at TEST_END: let what was sent arrive first (bounded).
        const Time deadline = scheduler_.now() + options_.timeout;
        // bytes_acked counts the stream from its first byte: the cookie, then the test data.
        for (auto& s : streams_)
            co_await wait_acknowledged(s->stream, kCookieSize + s->bytes, deadline);
    }
    const CpuTimes cpu = CpuTimes::now();
    const double wall = std::max(to_seconds(test_end_ - test_start_), 1e-9);
    cpu_user_percent_ = (cpu.user - cpu_start_.user) / wall * 100.0;
    cpu_system_percent_ = (cpu.system - cpu_start_.system) / wall * 100.0;
    for (auto& s : streams_) s->info = s->stream.info();
    co_return error;
}

Task<void> Iperf3Client::send_stream(StreamState& s) {
    const std::uint64_t limit = options_.params.byte_limit();
    for (;;) {
        std::size_t n = payload_.size();
        if (limit != 0) {
            if (reserved_ >= limit) break;
            n = static_cast<std::size_t>(std::min<std::uint64_t>(n, limit - reserved_));
            reserved_ += n;
        }
        const IoStatus status = co_await write_counted(s.stream, {payload_.data(), n}, s.bytes);
        if (status != IoStatus::ok) {
            s.end = status;
            break;
        }
    }
    progress_.notify_later();  // later: the waiter may end this scope
}

Task<void> Iperf3Client::receive_stream(StreamState& s) {
    std::vector<std::uint8_t> buffer(std::max<std::size_t>(options_.params.length, 256 * 1024));
    const std::uint64_t limit = options_.params.byte_limit();
    for (;;) {
        IoResult r = co_await s.stream.read(buffer);
        if (!r.ok()) {
            s.end = r.status;
            break;
        }
        s.bytes += r.bytes;
        if (limit != 0 && total_bytes() >= limit) break;
    }
    progress_.notify_later();
}

Task<std::string> Iperf3Client::exchange_results(TcpStream& control) {
    const Time deadline = scheduler_.now() + options_.timeout;
    const bool sender = !options_.params.reverse;
    const double seconds = to_seconds(test_end_ - test_start_);
    std::vector<StreamResult> mine;
    for (const auto& s : streams_)
        mine.push_back({s->id, s->bytes, static_cast<std::int64_t>(s->info.retransmits), seconds});
    if (co_await write_json(control,
                            results_to_json(mine, sender, cpu_user_percent_, cpu_system_percent_),
                            deadline) != IoStatus::ok)
        co_return "control connection lost sending the results";
    JsonRead theirs = co_await read_json(control, deadline);
    if (!theirs.json) co_return "server results: " + theirs.error;
    ResultsParse parsed = parse_results(*theirs.json);
    if (!parsed.streams) co_return "server results: " + parsed.error;
    for (const StreamResult& r : *parsed.streams) {
        auto it = std::find_if(streams_.begin(), streams_.end(),
                               [&](const auto& s) { return s->id == r.id; });
        if (it == streams_.end())
            co_return "server results name unknown stream " + std::to_string(r.id);
        (*it)->peer_bytes = r.bytes;
        (*it)->peer_retransmits = r.retransmits;
    }
    server_results_ = true;
    co_return "";
}

void Iperf3Client::write_report(const std::string& error) const {
    const bool reverse = options_.params.reverse;
    const double seconds = to_seconds(test_end_ - test_start_);
    std::uint64_t mine = 0, peer = 0, retransmits = 0;
    nlohmann::json streams = nlohmann::json::array();
    for (const auto& s : streams_) {
        mine += s->bytes;
        peer += s->peer_bytes;
        const std::int64_t r =
            reverse ? s->peer_retransmits : static_cast<std::int64_t>(s->info.retransmits);
        if (r > 0) retransmits += static_cast<std::uint64_t>(r);
        streams.push_back({{"id", s->id},
                           {"bytes", s->bytes},
                           {"peer_bytes", s->peer_bytes},
                           {"retransmits", r}});
    }
    const std::uint64_t sent = reverse ? peer : mine;
    const std::uint64_t received = reverse ? mine : peer;
    nlohmann::json report{
        {"role", "client"},
        {"target", options_.target.to_string()},
        {"port", options_.port},
        {"reverse", reverse},
        {"parallel", options_.params.parallel},
        {"length", options_.params.length},
        {"time_s", options_.params.time_s},
        {"bytes_limit", options_.params.bytes},
        {"ok", error.empty()},
        {"error", error.empty() ? nlohmann::json(nullptr) : nlohmann::json(error)},
        {"server_results", server_results_},
        {"seconds", seconds},
        {"bytes_sent", sent},
        {"bytes_received", received},
        {"retransmits", retransmits},
        {"cpu_util_user", cpu_user_percent_},
        {"cpu_util_system", cpu_system_percent_},
        {"streams", std::move(streams)},
        {"metrics", {{"throughput_gbit_s", gbit_per_s(received, seconds)}}}};
    if (!options_.report.empty()) write_json_report(options_.report, report);
    log_->info("iperf3 client: {} stream(s), {} bytes sent, {} received in {:.3f} s: {:.3f} Gbit/s",
               streams_.size(), sent, received, seconds, gbit_per_s(received, seconds));
}

}  // namespace netloom::apps
