// iperf3 server: one test at a time, driven by the control connection's state machine
// (PARAM_EXCHANGE, CREATE_STREAMS, TEST_START, TEST_RUNNING, then TEST_END from the client,
// EXCHANGE_RESULTS, DISPLAY_RESULTS, IPERF_DONE); data streams are recognised by the test's
// cookie; anything else arriving during a test gets ACCESS_DENIED.
#include <algorithm>
#include <list>

#include "iperf3.hpp"
#include "tcp_app_support.hpp"

namespace netloom::apps {

using namespace iperf3;

struct Iperf3Server::DataStream {
    explicit DataStream(TcpStream s, int i) : stream(std::move(s)), id(i) {}
    TcpStream stream;
    int id;
    std::uint64_t bytes = 0;  ///< counted while the test ran (after omit)
    std::uint64_t moved = 0;  ///< every byte read or queued, omitted seconds included (liveness)
};

struct Iperf3Server::Test {
    explicit Test(Scheduler& scheduler) : arrivals(scheduler) {}
    Cookie cookie{};
    TestParams params;
    bool accepting_streams = false;  ///< CREATE_STREAMS sent, not all streams there yet
    Time start{0}, count_from{0}, end{0};
    CpuTimes cpu_start;
    std::uint64_t reserved = 0;         ///< reverse with a byte limit: bytes handed to senders
    std::uint64_t counted = 0;          ///< the test's bytes, fixed when the workers stop
    std::vector<std::uint8_t> payload;  ///< reverse: what every send carries
    std::vector<std::unique_ptr<DataStream>> streams;
    WaitList arrivals;                   ///< a data stream joined
    std::unique_ptr<TaskScope> workers;  // after streams: destroyed first
};

Iperf3Server::Iperf3Server(Iperf3Options options, TcpEngine& tcp, Scheduler& scheduler,
                           std::shared_ptr<spdlog::logger> log)
    : options_(options),
      tcp_(tcp),
      scheduler_(scheduler),
      log_(std::move(log)),
      scope_(std::make_unique<TaskScope>(scheduler)) {}

Iperf3Server::~Iperf3Server() {
    scope_.reset();  // coroutines first: they refer to the test and the acceptor
    test_.reset();
}

void Iperf3Server::start(std::function<void(int)>) {
    acceptor_ = std::make_unique<TcpAcceptor>(scheduler_, tcp_, options_.port);
    log_->info("iperf3 server listening on port {}", options_.port);
    scope_->spawn(accept_loop());
}

void Iperf3Server::visit_counters(const CounterVisitor& visit) const {
    visit("tests", tests_);
    visit("tests_failed", tests_failed_);
    visit("bytes", bytes_);
    visit("denied", denied_);
    visit("bad_control", bad_control_);
    visit("dropped", dropped_);
    visit("streams_current", test_ ? test_->streams.size() : 0);
}

Task<void> Iperf3Server::accept_loop() {
    for (;;) {
        TcpStream stream = co_await acceptor_->accept();
        if (!stream) continue;
        if (pending_ >= options_.max_pending) {
            ++dropped_;  // bounded: a flood of silent connections cannot pile up
            stream.abort();
            continue;
        }
        ++pending_;  // here, not in the handler: it starts on a later loop turn
        scope_->spawn(handle_connection(std::move(stream)));
    }
}

Task<void> Iperf3Server::handle_connection(TcpStream stream) {
    // Every connection starts with a cookie: a new test's (control) or the running test's
    // (a data stream).
    Cookie cookie{};
    IoResult r = co_await stream.read_exact(cookie, scheduler_.now() + options_.timeout);
    --pending_;
    if (!r.ok()) {
        ++bad_control_;
        log_->debug("iperf3: connection from {} sent no cookie ({})",
                    stream.remote().address.to_string(), to_string(r.status));
        stream.abort();
        co_return;
    }
    if (!test_) {
        if (!plausible_cookie(cookie)) {
            ++bad_control_;
            log_->info("iperf3: connection from {} sent no iperf3 cookie: closed",
                       stream.remote().address.to_string());
            stream.abort();
            co_return;
        }
        co_await run_test(std::move(stream), cookie);
        co_return;
    }
    Test& test = *test_;
    if (test.accepting_streams && cookie == test.cookie &&
        test.streams.size() < test.params.parallel) {
        const int id = stream_id(test.streams.size());
        test.streams.push_back(std::make_unique<DataStream>(std::move(stream), id));
        test.arrivals.notify_later();
        co_return;
    }
    co_await deny(std::move(stream));
}

Task<void> Iperf3Server::deny(TcpStream stream) {
    // iperf3 answers a connection that is not part of the running test with one byte.
    ++denied_;
    log_->info("iperf3: ACCESS_DENIED to {} (a test is running)",
               stream.remote().address.to_string());
    const Time deadline = scheduler_.now() + options_.timeout;
    if (co_await send_state(stream, access_denied, deadline) == IoStatus::ok)
        co_await stream.close(deadline);
}

std::uint64_t Iperf3Server::test_bytes(const Test& test) const {
    std::uint64_t sum = 0;
    for (const auto& s : test.streams) sum += s->bytes;
    return sum;
}

std::uint64_t Iperf3Server::moved_bytes(const Test& test) const {
    std::uint64_t sum = 0;
    for (const auto& s : test.streams) sum += s->moved;
    return sum;
}

Task<void> Iperf3Server::run_test(TcpStream control, Cookie cookie) {
    test_ = std::make_unique<Test>(scheduler_);
    test_->cookie = cookie;
    const std::string remote = control.remote().address.to_string();
    const std::string error = co_await drive_test(control, *test_);
    const std::uint64_t bytes = test_->counted;
    if (error.empty()) {
        ++tests_;
        const double seconds = to_seconds(test_->end - test_->start);
        log_->info("iperf3 test from {}: {} stream(s) {} {} bytes in {:.3f} s, {:.3f} Gbit/s",
                   remote, test_->params.parallel, test_->params.reverse ? "sent" : "received",
                   bytes, seconds, gbit_per_s(bytes, seconds));
    } else {
        ++tests_failed_;
        log_->warn("iperf3 test from {} abandoned: {}", remote, error);
    }
    test_.reset();  // workers end, data streams close; the next client may come
    // Gracefully, so a SERVER_ERROR just sent arrives (unread garbage makes it a reset).
    if ((co_await control.close(scheduler_.now() + options_.timeout)).status != IoStatus::ok)
        control.abort();
}

Task<std::string> Iperf3Server::drive_test(TcpStream& control, Test& test) {
    control.set_nodelay(true);
    auto step = [this] { return scheduler_.now() + options_.timeout; };
    if (co_await send_state(control, param_exchange, step()) != IoStatus::ok)
        co_return "control connection lost before PARAM_EXCHANGE";
    JsonRead m = co_await read_json(control, step());
    if (!m.json) {
        if (m.status == IoStatus::ok) ++bad_control_;  // garbage, not a transport failure
        co_return "parameters: " + m.error;
    }
    ParamsParse parsed = parse_params(*m.json);
    if (!parsed.params) {
        co_await send_server_error(control, parsed.code, 0, step());
        co_return "parameters refused: " + parsed.error;
    }
    test.params = *parsed.params;
    if (test.params.reverse) {
        test.payload.resize(test.params.length);
        std::mt19937_64 random(test.params.length);
        for (auto& b : test.payload) b = static_cast<std::uint8_t>(random());
    }

    test.accepting_streams = true;
    if (co_await send_state(control, create_streams, step()) != IoStatus::ok)
        co_return "control connection lost at CREATE_STREAMS";
    const Time streams_deadline = step();
    while (test.streams.size() < test.params.parallel) {
        if (!co_await test.arrivals.wait(streams_deadline))
            co_return "only " + std::to_string(test.streams.size()) + " of " +
                std::to_string(test.params.parallel) + " data streams arrived";
    }
    test.accepting_streams = false;

    // One co_await per statement, never inside || (see iperf3_client.cpp: GCC 12).
    IoStatus sent = co_await send_state(control, test_start, step());
    if (sent == IoStatus::ok) sent = co_await send_state(control, test_running, step());
    if (sent != IoStatus::ok) co_return "control connection lost at TEST_START";
    test.start = scheduler_.now();
    test.count_from = test.start + std::chrono::seconds(test.params.omit_s);
    test.cpu_start = CpuTimes::now();
    test.workers = std::make_unique<TaskScope>(scheduler_);
    for (auto& s : test.streams) {
        test.workers->spawn(test.params.reverse ? send_stream(test, *s) : receive_stream(test, *s));
    }
    std::string error = co_await wait_for_test_end(control, test);
    test.end = scheduler_.now();
    test.workers.reset();  // counting stops here: what was counted is what is reported
    test.counted = test_bytes(test);
    bytes_ += test.counted;
    if (!error.empty()) co_return error;
    co_return co_await exchange_results(control, test);
}

Task<std::string> Iperf3Server::wait_for_test_end(TcpStream& control, Test& test) {
    // The client ends the test (TEST_END). Meanwhile the test must show signs of life: data
    // moving or control messages within idle_timeout, and an end by time + omit + grace.
    const Time hard_end = test.params.time_s > 0
                              ? test.start +
                                    std::chrono::seconds(test.params.time_s + test.params.omit_s) +
                                    options_.grace
                              : kNoDeadline;
    // Liveness counts every byte: during omit (-O) nothing is counted for the results yet.
    std::uint64_t seen = moved_bytes(test);
    for (;;) {
        const Time idle_end = scheduler_.now() + options_.idle_timeout;
        StateRead s = co_await read_state(control, std::min(idle_end, hard_end));
        if (s.status == IoStatus::deadline) {
            if (scheduler_.now() >= hard_end) co_return "the test overran its time";
            const std::uint64_t now_bytes = moved_bytes(test);
            if (now_bytes == seen) co_return "no data and no control message: client gone";
            seen = now_bytes;
            continue;
        }
        if (s.status != IoStatus::ok)
            co_return "control connection " + std::string(to_string(s.status)) + " mid-test";
        switch (s.state) {
            case test_start: continue;  // iperf3 ignores it too
            case test_end: co_return "";
            case client_terminate: co_return "the client terminated the test";
            default: co_return "unexpected " + state_name(s.state) + " mid-test";
        }
    }
}

Task<std::string> Iperf3Server::exchange_results(TcpStream& control, Test& test) {
    auto step = [this] { return scheduler_.now() + options_.timeout; };
    const double seconds = to_seconds(test.end - test.start);
    std::vector<StreamResult> mine;
    for (const auto& s : test.streams) {
        const TcpInfo info = s->stream.info();
        mine.push_back({s->id, s->bytes, static_cast<std::int64_t>(info.retransmits), seconds});
    }
    const CpuTimes cpu = CpuTimes::now();
    const double wall = std::max(seconds, 1e-9);
    const double user = (cpu.user - test.cpu_start.user) / wall * 100.0;
    const double system = (cpu.system - test.cpu_start.system) / wall * 100.0;
    test.streams.clear();  // iperf3 closes the data streams before the results

    if (co_await send_state(control, State::exchange_results, step()) != IoStatus::ok)
        co_return "control connection lost at EXCHANGE_RESULTS";
    JsonRead theirs = co_await read_json(control, step());
    if (!theirs.json) {
        if (theirs.status == IoStatus::ok) ++bad_control_;
        co_return "client results: " + theirs.error;
    }
    ResultsParse peer = parse_results(*theirs.json);
    if (!peer.streams) co_return "client results: " + peer.error;
    std::uint64_t peer_bytes = 0;
    for (const StreamResult& r : *peer.streams) peer_bytes += r.bytes;
    log_->debug("iperf3: the client reports {} bytes {}", peer_bytes,
                test.params.reverse ? "received" : "sent");
    if (co_await write_json(control, results_to_json(mine, test.params.reverse, user, system),
                            step()) != IoStatus::ok)
        co_return "control connection lost sending results";
    if (co_await send_state(control, display_results, step()) != IoStatus::ok)
        co_return "control connection lost at DISPLAY_RESULTS";
    // IPERF_DONE, or the client simply closing, ends the test.
    StateRead done = co_await read_state(control, step());
    if (done.status == IoStatus::ok && done.state != iperf_done)
        co_return "expected IPERF_DONE, got " + state_name(done.state);
    if (done.status != IoStatus::ok && done.status != IoStatus::eof)
        co_return "no IPERF_DONE: " + std::string(to_string(done.status));
    co_return "";
}

Task<void> Iperf3Server::receive_stream(Test& test, DataStream& s) {
    std::vector<std::uint8_t> buffer(std::max<std::size_t>(test.params.length, 256 * 1024));
    const bool omit = test.params.omit_s > 0;
    for (;;) {
        IoResult r = co_await s.stream.read(buffer);
        if (!r.ok()) co_return;  // the client closed or reset this stream: the test goes on
        s.moved += r.bytes;
        if (!omit || scheduler_.now() >= test.count_from) s.bytes += r.bytes;
    }
}

Task<void> Iperf3Server::send_stream(Test& test, DataStream& s) {
    // Every byte queued counts, omitted seconds included (see README: limits).
    const std::uint64_t limit = test.params.byte_limit();
    for (;;) {
        std::size_t n = test.payload.size();
        if (limit != 0) {
            if (test.reserved >= limit) co_return;  // the client ends the test on its count
            n = static_cast<std::size_t>(std::min<std::uint64_t>(n, limit - test.reserved));
            test.reserved += n;
        }
        const std::uint64_t before = s.bytes;
        const IoStatus status = co_await write_counted(s.stream, {test.payload.data(), n}, s.bytes);
        s.moved += s.bytes - before;
        if (status != IoStatus::ok) co_return;
    }
}

}  // namespace netloom::apps
