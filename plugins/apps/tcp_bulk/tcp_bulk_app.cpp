// tcp_bulk: the app around the transfers: connect or listen, collect results, report.
#include <algorithm>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "tcp_app_support.hpp"
#include "tcp_bulk.hpp"

namespace netloom::apps {
namespace {

const char* role_name(TcpBulkOptions::Role role) {
    return role == TcpBulkOptions::Role::client ? "client" : "server";
}
const char* direction_name(TcpBulkOptions::Direction direction) {
    return direction == TcpBulkOptions::Direction::send ? "send" : "receive";
}

}  // namespace

TcpBulkApp::TcpBulkApp(TcpBulkOptions options, TcpEngine& tcp, Scheduler& scheduler,
                       std::shared_ptr<spdlog::logger> log)
    : options_(std::move(options)),
      tcp_(tcp),
      scheduler_(scheduler),
      log_(std::move(log)),
      scope_(scheduler) {}

TcpBulkApp::~TcpBulkApp() = default;

void TcpBulkApp::start(std::function<void(int)> finished) {
    finished_ = std::move(finished);
    if (options_.role == TcpBulkOptions::Role::client) {
        scope_.spawn(connect_and_transfer());
        return;
    }
    try {
        acceptor_ = std::make_unique<TcpAcceptor>(scheduler_, tcp_, options_.port);
    } catch (const std::exception& e) {
        throw std::runtime_error("tcp_bulk server: cannot listen on TCP port " +
                                 std::to_string(options_.port) + ": " + e.what());
    }
    log_->info("tcp_bulk server listening on port {} ({})", options_.port,
               direction_name(options_.direction));
    scope_.spawn(accept_loop());
}

Task<void> TcpBulkApp::connect_and_transfer() {
    ++connections_;
    TcpStream stream = co_await tcp_connect(scheduler_, tcp_, {options_.target, options_.port});
    co_await transfer(std::move(stream));
}

// Transfers run concurrently; once the server has its `connections`, record() drops the
// acceptor, which leaves this loop suspended until the scope ends it.
Task<void> TcpBulkApp::accept_loop() {
    for (;;) {
        TcpStream stream = co_await acceptor_->accept();
        if (!stream) continue;
        ++connections_;
        scope_.spawn(transfer(std::move(stream)));
    }
}

Task<void> TcpBulkApp::transfer(TcpStream stream) {
    BulkTransfer transfer(options_, scheduler_, std::move(stream), *log_);
    transfer.set_memory_probe([&tcp = tcp_] { return tcp.memory_in_use(); });
    struct Listed {  // in live_ while the frame lives, however it ends
        std::vector<const BulkTransfer*>& live;
        const BulkTransfer* transfer;
        ~Listed() { std::erase(live, transfer); }
    };
    {
        live_.push_back(&transfer);
        Listed listed{live_, &transfer};
        co_await transfer.run();
    }
    record(transfer.result());
}

// Takes a finished transfer's result, reports, and finishes when it is time.
void TcpBulkApp::record(const BulkResult& result) {
    const BulkResult& r = results_.emplace_back(result);
    if (!r.ok) ++errors_;
    if (r.ok) {
        log_->info("{}", describe(r));
    } else {
        log_->error("{}", describe(r));
    }
    bool report_failed = false;
    if (!options_.report.empty()) {
        try {
            write_report();
        } catch (const std::exception& e) {
            log_->error("tcp_bulk: {}", e.what());
            report_failed = true;
        }
    }
    const std::size_t wanted =
        options_.role == TcpBulkOptions::Role::client ? 1 : options_.connections;
    if (wanted > 0 && results_.size() >= wanted && !finished_called_) {
        finished_called_ = true;
        acceptor_.reset();  // no more connections: later SYNs are refused
        if (finished_) finished_(errors_ == 0 && !report_failed ? 0 : 1);
    }
}

std::string TcpBulkApp::describe(const BulkResult& r) const {
    std::string line = fmt::format(
        "tcp_bulk {} {} {}:{}: {} bytes{}{} in {:.3f} s = {:.3f} Gbit/s, cpu {:.3f} s",
        role_name(options_.role), options_.sender() ? "sent to" : "received from",
        r.remote.address.to_string(), r.remote.port, r.bytes, r.sha256.empty() ? "" : ", sha256 ",
        r.sha256, r.seconds(), gbit_per_s(r.bytes, r.seconds()), r.cpu_seconds());
    if (r.aborted) line += ", then reset on purpose (abort_after)";
    if (r.ok && !r.aborted && r.tcp_error != TcpError::none) {
        line += fmt::format(", ended by {} as expected", to_string(r.tcp_error));
    }
    if (!r.ok) line += " (FAILED: " + r.failure + ")";
    return line;
}

void TcpBulkApp::write_report() const {
    // Top level: the whole app (the one transfer of a client); `transfers` lists each one.
    nlohmann::json report;
    report["role"] = role_name(options_.role);
    report["direction"] = direction_name(options_.direction);
    std::uint64_t bytes = 0;
    double start = results_.front().start_seconds, end = results_.front().end_seconds;
    double cpu_start = results_.front().cpu_start, cpu_end = results_.front().cpu_end;
    TcpInfo sums;
    nlohmann::json error = nullptr;
    nlohmann::json transfers = nlohmann::json::array();
    for (const BulkResult& r : results_) {
        bytes += r.bytes;
        start = std::min(start, r.start_seconds);
        end = std::max(end, r.end_seconds);
        cpu_start = std::min(cpu_start, r.cpu_start);
        cpu_end = std::max(cpu_end, r.cpu_end);
        sums.retransmits += r.info.retransmits;
        sums.rto_count += r.info.rto_count;
        sums.fast_retransmits += r.info.fast_retransmits;
        sums.sack_recoveries += r.info.sack_recoveries;
        if (!r.ok && error.is_null()) error = r.failure;
        transfers.push_back(r.to_json());
    }
    report["bytes"] = bytes;
    report["sha256"] = results_.back().sha256;
    report["seconds"] = end - start;
    report["cpu_seconds"] = cpu_end - cpu_start;
    report["gbit_per_s"] = gbit_per_s(bytes, end - start);
    report["error"] = error;
    report["ok"] = error.is_null();
    report["aborted"] = results_.back().aborted;
    report["tcp_error"] = tcp_error_key(results_.back().tcp_error);
    add_tcp_info(report, sums);
    report["connections"] = results_.size();
    report["sha256_implementation"] = options_.hash ? Sha256::implementation() : "none";
    report["transfers"] = std::move(transfers);
    // The A/B harness reads `metrics` (standard names) and the first sender's `timeline`.
    report["metrics"] = {{"throughput_gbit_s", gbit_per_s(bytes, end - start)}};
    nlohmann::json timeline = nlohmann::json::array();
    for (const BulkSample& s : results_.front().timeline) {
        timeline.push_back({{"t_ms", s.t_ms},
                            {"cwnd", s.cwnd},
                            {"srtt_us", s.srtt_us},
                            {"bytes_in_flight", s.bytes_in_flight},
                            {"bytes_acked", s.bytes_acked}});
    }
    if (!timeline.empty()) report["timeline"] = std::move(timeline);
    write_json_report(options_.report, report);
}

void TcpBulkApp::visit_counters(const CounterVisitor& visit) const {
    std::uint64_t bytes = 0;
    for (const BulkResult& r : results_) bytes += r.bytes;
    for (const BulkTransfer* t : live_) bytes += t->bytes_moved();
    visit("bytes", bytes);
    visit("connections", connections_);
    visit("errors", errors_);
}

}  // namespace netloom::apps
