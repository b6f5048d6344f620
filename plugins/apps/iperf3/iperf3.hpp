// iperf3.hpp — the `iperf3` app: a server and a client speaking the iperf3 3.12 protocol
// (TCP tests: -P, -R, -t, -n, -k), interoperable with Debian's iperf3.
//
// Contract: the server listens on `port`, runs one test at a time and then serves the next;
// any connection arriving during a test that is not one of its data streams (its cookie does
// not match, or all its streams are there) gets ACCESS_DENIED and is closed. A control
// connection that sends no plausible cookie, an over-long or malformed JSON message, or goes
// silent past `timeout` is closed and counted (bad_control); a test whose client stops
// sending control messages and data (omitted seconds' data included) for `idle_timeout`, or
// overruns time + omit + `grace`, is
// abandoned (tests_failed) and the server serves the next one. The results the server sends
// carry exactly the bytes it counted (and the `bytes` counter grows by the same amount).
// The client is finite: one test against `target`:`port`, status 0 when the whole exchange
// (through DISPLAY_RESULTS) completed; it writes a JSON report with `report`.
// Every coroutine runs in a TaskScope the app owns: destroying the app ends them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "iperf3_protocol.hpp"
#include "netloom/app.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "netloom/scheduler.hpp"
#include "netloom/task.hpp"
#include "netloom/tcp.hpp"
#include "stream.hpp"
#include "task_scope.hpp"
#include "wait_list.hpp"

namespace netloom::apps {

struct Iperf3Options {
    enum class Role { server, client };
    Role role = Role::server;
    std::uint16_t port = iperf3::kDefaultPort;
    Time timeout = std::chrono::seconds(10);  ///< one control step (cookie, JSON, state byte)
    // server only
    Time idle_timeout = std::chrono::seconds(10);  ///< no data and no control message
    Time grace = std::chrono::seconds(10);         ///< beyond time + omit
    std::uint32_t max_pending = 64;                ///< connections still sending their cookie
    // client only
    Ipv4Address target;
    iperf3::TestParams params;
    std::string report;

    static Iperf3Options from_config(const Config& config);
};

std::unique_ptr<App> make_iperf3(const Config& config, Env& env);

class Iperf3Server final : public App {
public:
    Iperf3Server(Iperf3Options options, TcpEngine& tcp, Scheduler& scheduler,
                 std::shared_ptr<spdlog::logger> log);
    ~Iperf3Server() override;

    void start(std::function<void(int status)> finished) override;
    bool finite() const noexcept override { return false; }
    void visit_counters(const CounterVisitor& visit) const override;

private:
    struct Test;
    struct DataStream;

    Task<void> accept_loop();
    Task<void> handle_connection(TcpStream stream);
    Task<void> deny(TcpStream stream);
    Task<void> run_test(TcpStream control, iperf3::Cookie cookie);
    Task<std::string> drive_test(TcpStream& control, Test& test);
    Task<std::string> wait_for_test_end(TcpStream& control, Test& test);
    Task<std::string> exchange_results(TcpStream& control, Test& test);
    Task<void> receive_stream(Test& test, DataStream& stream);
    Task<void> send_stream(Test& test, DataStream& stream);
    std::uint64_t test_bytes(const Test& test) const;   ///< counted for the results
    std::uint64_t moved_bytes(const Test& test) const;  ///< moved at all, for the idle check

    Iperf3Options options_;
    TcpEngine& tcp_;
    Scheduler& scheduler_;
    std::shared_ptr<spdlog::logger> log_;
    std::unique_ptr<TcpAcceptor> acceptor_;
    std::unique_ptr<Test> test_;  ///< the test running now, if any
    std::uint32_t pending_ = 0;   ///< connections whose cookie is being read

    std::uint64_t tests_ = 0;         ///< completed through DISPLAY_RESULTS
    std::uint64_t tests_failed_ = 0;  ///< abandoned (timeout, client gone, bad parameters)
    std::uint64_t bytes_ = 0;         ///< received (or sent, reverse) as reported in results
    std::uint64_t denied_ = 0;        ///< ACCESS_DENIED sent
    std::uint64_t bad_control_ = 0;   ///< garbage, over-long or silent control connections
    std::uint64_t dropped_ = 0;       ///< connections refused beyond max_pending

    std::unique_ptr<TaskScope> scope_;  // last: destroyed first, with every coroutine
};

class Iperf3Client final : public App {
public:
    Iperf3Client(Iperf3Options options, TcpEngine& tcp, Scheduler& scheduler,
                 std::shared_ptr<spdlog::logger> log);
    ~Iperf3Client() override;

    void start(std::function<void(int status)> finished) override;
    bool finite() const noexcept override { return true; }
    void visit_counters(const CounterVisitor& visit) const override;

    struct StreamState {
        explicit StreamState(TcpStream s) : stream(std::move(s)) {}
        TcpStream stream;
        int id = 0;
        std::uint64_t bytes = 0;  ///< sent (normal) or received (reverse) while the test ran
        std::uint64_t peer_bytes = 0;
        std::int64_t peer_retransmits = -1;
        TcpInfo info;
        IoStatus end = IoStatus::ok;  ///< why the stream's worker stopped early
    };

private:
    Task<void> run();
    Task<std::string> drive();
    Task<std::string> create_streams();
    Task<std::string> run_test();
    Task<std::string> exchange_results(TcpStream& control);
    Task<void> send_stream(StreamState& stream);
    Task<void> receive_stream(StreamState& stream);
    std::uint64_t total_bytes() const;
    void write_report(const std::string& error) const;

    Iperf3Options options_;
    TcpEngine& tcp_;
    Scheduler& scheduler_;
    std::shared_ptr<spdlog::logger> log_;
    std::function<void(int)> finished_;
    std::mt19937_64 random_;
    iperf3::Cookie cookie_{};
    std::vector<std::unique_ptr<StreamState>> streams_;
    std::vector<std::uint8_t> payload_;
    std::uint64_t reserved_ = 0;  ///< bytes handed to senders so far (byte limit)
    Time test_start_{0}, test_end_{0};
    iperf3::CpuTimes cpu_start_;
    double cpu_user_percent_ = 0, cpu_system_percent_ = 0;
    bool server_results_ = false;
    std::uint64_t failures_ = 0;

    WaitList progress_;                   ///< workers: limit reached or stream ended
    std::unique_ptr<TaskScope> workers_;  ///< the data-stream coroutines of the running test
    std::unique_ptr<TaskScope> scope_;    // last: destroyed first
};

}  // namespace netloom::apps
