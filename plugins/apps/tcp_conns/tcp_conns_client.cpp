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
      changed_(scheduler),
      scope_(scheduler) {
    // Allocated before the heap baseline, so the app's own table is not counted per connection.
    slots_.resize(options_.count);
}

TcpConnsClient::~TcpConnsClient() = default;

void TcpConnsClient::start(std::function<void(int)> finished) {
    finished_ = std::move(finished);
    scope_.spawn(run());
}

Task<void> TcpConnsClient::open(std::uint32_t index) {
    TcpStream stream = co_await tcp_connect(scheduler_, tcp_, {options_.target, options_.port});
    --opening_;
    if (stream) {
        slots_[index] = std::move(stream);
        ++established_;
    } else if (++failed_ == 1) {
        // A local refusal (no free ephemeral port, max_connections) fails this connection
        // only, as a refused or timed-out connect does; the others go on.
        if (stream.status() == IoStatus::local_error) {
            log_->warn("tcp_conns: connection {} not opened: {}", index, stream.detail());
        } else {
            log_->warn("tcp_conns: connection {} failed: {}", index, to_string(stream.status()));
        }
    }
    changed_.notify_later();  // the pacing loop runs on a later turn, after this frame is gone
}

Task<void> TcpConnsClient::close(std::uint32_t index, Time limit) {
    TcpStream& stream = slots_[index];
    // Whatever the server sent is read and dropped first, so the close is a FIN, not a reset.
    IoResult r;
    do {
        r = co_await stream.read(sink_, scheduler_.now());  // only what is there already
    } while (r.ok());
    r = co_await stream.close(limit);
    if (r.status != IoStatus::deadline) ++closed_;  // CLOSED, TIME-WAIT or failed: done
    changed_.notify_later();
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
        while (next < options_.count && opening_ < limit) {
            ++opening_;
            scope_.spawn(open(next++));
        }
        co_await changed_.wait();
    }
    measurement_.establish_seconds = to_seconds(scheduler_.now() - started);
    measurement_.established = established_;

    // Idle: the last handshakes' ACKs and any delayed-ACK timers are done.
    co_await scheduler_.sleep_for(options_.settle);
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
    co_await scheduler_.sleep_for(options_.hold);
    const double hold_seconds = to_seconds(scheduler_.now() - hold_start);

    // Closed `burst` at a time too: ten thousand FINs at once would overflow a device queue.
    // A connection that failed while held (reset, timed out) is `dropped`, not closed.
    std::uint32_t next_close = 0;
    const Time close_limit = scheduler_.now() + options_.close_timeout;
    for (;;) {
        while (next_close < options_.count && closing_ - closed_ < options_.burst) {
            const std::uint32_t index = next_close++;
            const TcpStream& stream = slots_[index];
            if (!stream) continue;  // never established
            if (stream.connection().error() != TcpError::none) {
                ++dropped_;
                continue;
            }
            ++closing_;
            scope_.spawn(close(index, close_limit));
        }
        if ((next_close == options_.count && closed_ == closing_) ||
            scheduler_.now() >= close_limit) {
            break;
        }
        co_await changed_.wait(close_limit);
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
