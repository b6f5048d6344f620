// tcp_conns client: paced connects, then a memory measurement of the idle connections.
#include <fmt/format.h>

#include "tcp_app_support.hpp"
#include "tcp_conns.hpp"

namespace netloom::apps {

double TcpConnsClient::Measurement::engine_bytes_per_connection() const noexcept {
    return established == 0 ? 0.0 : static_cast<double>(engine_bytes) / established;
}
double TcpConnsClient::Measurement::heap_bytes_per_connection() const noexcept {
    return established == 0 ? 0.0 : static_cast<double>(heap_bytes) / established;
}

TcpConnsClient::TcpConnsClient(TcpConnsOptions options, TcpEngine& tcp, Scheduler& scheduler,
                               std::shared_ptr<spdlog::logger> log)
    : options_(std::move(options)),
      tcp_(tcp),
      scheduler_(scheduler),
      log_(std::move(log)),
      wakeup_(scheduler) {
    // Allocated before the heap baseline, so the app's own table is not counted per connection.
    slots_.resize(options_.count);
}

TcpConnsClient::~TcpConnsClient() {
    for (Slot& slot : slots_) {
        if (slot.connection) slot.connection->on_event({});
    }
}

void TcpConnsClient::start(std::function<void(int)> finished) {
    finished_ = std::move(finished);
    wakeup_.spawn(run());
}

void TcpConnsClient::open(std::uint32_t index) {
    Slot& slot = slots_[index];
    try {
        slot.connection = tcp_.connect({options_.target, options_.port});
    } catch (const std::exception& e) {
        // A local refusal (no free ephemeral port, max_connections): this connection fails,
        // the others go on, and the report says why (an escaping exception would leave run()
        // waiting for a connection that never opens).
        slot.phase = Phase::failed;
        if (++failed_ == 1) log_->warn("tcp_conns: connection {} not opened: {}", index, e.what());
        return;
    }
    slot.phase = Phase::opening;
    ++opening_;
    // Two words of capture: std::function keeps them inline, no allocation per connection.
    slot.connection->on_event([this, index](std::uint32_t) { on_event(index); });
}

void TcpConnsClient::on_event(std::uint32_t index) {
    Slot& slot = slots_[index];
    TcpConnection& c = *slot.connection;
    const bool error = c.error() != TcpError::none;
    switch (slot.phase) {
        case Phase::opening:
            if (error) {
                slot.phase = Phase::failed;
                --opening_;
                ++failed_;
                if (failed_ == 1) {
                    log_->warn("tcp_conns: connection {} failed: {}", index, to_string(c.error()));
                }
            } else if (!tcp_opening(c.state())) {
                slot.phase = Phase::established;
                --opening_;
                ++established_;
            }
            break;
        case Phase::established:
            if (error) {
                slot.phase = Phase::failed;
                ++dropped_;
            } else {
                std::uint8_t sink[512];
                while (c.recv(sink) > 0) {
                }
            }
            break;
        case Phase::closing:
            if (error || tcp_finished(c.state())) {
                slot.phase = Phase::closed;
                ++closed_;
            }
            break;
        default: return;  // failed or closed: nothing more to learn
    }
    wakeup_.notify();
}

Task<void> TcpConnsClient::run() {
    const std::size_t heap_before = heap_bytes_in_use();
    const std::size_t engine_before = tcp_.memory_in_use();
    const double cpu_before = process_cpu_seconds();
    const Time started = scheduler_.now();

    std::uint32_t next = 0;
    while (established_ + failed_ < options_.count) {
        // The first connection goes alone: its SYN waits for ARP, and a burst behind it would
        // overflow the IP layer's small ARP queue and cost every dropped SYN an RTO.
        const std::uint32_t limit = established_ + failed_ == 0 ? 1 : options_.burst;
        while (next < options_.count && opening_ < limit) open(next++);
        co_await wakeup_.wait();
    }
    measurement_.establish_seconds = to_seconds(scheduler_.now() - started);
    measurement_.established = established_;

    // Idle: the last handshakes' ACKs and any delayed-ACK timers are done.
    for (const Time settled = scheduler_.now() + options_.settle; scheduler_.now() < settled;) {
        co_await wakeup_.wait_until(settled);
    }
    const std::size_t engine_after = tcp_.memory_in_use();
    measurement_.engine_bytes = engine_after >= engine_before ? engine_after - engine_before : 0;
    measurement_.heap_bytes =
        static_cast<std::int64_t>(heap_bytes_in_use()) - static_cast<std::int64_t>(heap_before);
    log_->info(
        "tcp_conns {}:{}: {} of {} connections established in {:.3f} s ({} failed); idle: "
        "engine {:.0f} bytes/connection, process heap {:.0f} bytes/connection",
        options_.target.to_string(), options_.port, established_, options_.count,
        measurement_.establish_seconds, failed_, measurement_.engine_bytes_per_connection(),
        measurement_.heap_bytes_per_connection());

    const Time hold_start = scheduler_.now();
    for (const Time held = hold_start + options_.hold; scheduler_.now() < held;) {
        co_await wakeup_.wait_until(held);
    }
    const double hold_seconds = to_seconds(scheduler_.now() - hold_start);

    // Closed `burst` at a time too: ten thousand FINs at once would overflow a device queue.
    std::uint32_t next_close = 0;
    const Time close_limit = scheduler_.now() + options_.close_timeout;
    for (;;) {
        while (next_close < options_.count && closing_ - closed_ < options_.burst) {
            Slot& slot = slots_[next_close++];
            if (slot.phase != Phase::established) continue;
            slot.phase = Phase::closing;
            ++closing_;
            slot.connection->close();
        }
        if ((next_close == options_.count && closed_ == closing_) ||
            scheduler_.now() >= close_limit) {
            break;
        }
        co_await wakeup_.wait_until(close_limit);
    }
    if (closed_ < closing_) {
        log_->warn("tcp_conns: {} of {} connections still closing after {:.1f} s",
                   closing_ - closed_, closing_, to_seconds(options_.close_timeout));
    }
    const double cpu_seconds = process_cpu_seconds() - cpu_before;

    const bool ok = established_ == options_.count && dropped_ == 0;
    int status = ok ? 0 : 1;
    if (!options_.report.empty()) {
        try {
            report(cpu_seconds, hold_seconds);
        } catch (const std::exception& e) {
            log_->error("tcp_conns: {}", e.what());
            status = 1;
        }
    }
    if (finished_) finished_(status);
}

void TcpConnsClient::report(double cpu_seconds, double hold_seconds) const {
    nlohmann::json r;
    r["role"] = "client";
    r["target"] = options_.target.to_string() + ":" + std::to_string(options_.port);
    r["count"] = options_.count;
    r["established"] = established_;
    r["failed"] = failed_;
    r["dropped"] = dropped_;
    r["closed"] = closed_;
    r["establish_seconds"] = measurement_.establish_seconds;
    r["engine_bytes"] = measurement_.engine_bytes;
    r["engine_bytes_per_connection"] = measurement_.engine_bytes_per_connection();
    r["heap_bytes"] = measurement_.heap_bytes;
    r["heap_bytes_per_connection"] = measurement_.heap_bytes_per_connection();
    r["hold_seconds"] = hold_seconds;
    r["cpu_seconds"] = cpu_seconds;
    std::string error;
    if (failed_ > 0) error = fmt::format("{} connections failed to open", failed_);
    if (dropped_ > 0) {
        error +=
            fmt::format("{}{} connections failed while held", error.empty() ? "" : "; ", dropped_);
    }
    r["error"] = error.empty() ? nlohmann::json(nullptr) : nlohmann::json(error);
    r["ok"] = error.empty();
    // The A/B harness's columns: what the engine holds per idle connection (its own
    // memory_in_use), how fast the connections opened, and the engine-neutral heap figure.
    const double seconds = measurement_.establish_seconds;
    r["metrics"] = {
        {"bytes_per_idle_connection", measurement_.engine_bytes_per_connection()},
        {"connections_per_s", seconds > 0 ? static_cast<double>(established_) / seconds : 0.0},
        {"heap_bytes_per_connection_pair", measurement_.heap_bytes_per_connection()}};
    write_json_report(options_.report, r);
}

void TcpConnsClient::visit_counters(const CounterVisitor& visit) const {
    visit("established", established_);
    visit("failed", failed_);
    visit("dropped", dropped_);
    visit("closed", closed_);
    visit("engine_bytes_per_connection",
          static_cast<std::uint64_t>(measurement_.engine_bytes_per_connection()));
    visit("heap_bytes_per_connection",
          static_cast<std::uint64_t>(std::max(0.0, measurement_.heap_bytes_per_connection())));
}

}  // namespace netloom::apps
