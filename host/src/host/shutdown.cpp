// Graceful shutdown of a running Runtime (runtime.hpp has the contract): the first SIGINT or
// SIGTERM closes every connection and lets the loop run until they are gone or
// `run.shutdown_timeout` passes; a second one stops at once.
#include <utility>

#include "runtime.hpp"

namespace netloom::host {

namespace {

// How often the loop looks whether every connection has gone. The engines keep no "all closed"
// event; a look costs one subtraction per engine.
constexpr auto kShutdownPollInterval = std::chrono::milliseconds(5);

/// An app's counters as they were when it was destroyed, so the stats at exit still list them.
class CounterSnapshot final : public CounterSource {
public:
    explicit CounterSnapshot(const CounterSource& source) {
        source.visit_counters([this](std::string_view name, std::uint64_t value) {
            values_.emplace_back(std::string(name), value);
        });
    }
    void visit_counters(const CounterVisitor& visit) const override {
        for (const auto& [name, value] : values_) visit(name, value);
    }

private:
    std::vector<std::pair<std::string, std::uint64_t>> values_;
};

}  // namespace

void Runtime::on_stop_signal(int signal) {
    if (shutdown_ == Shutdown::none && shutdown_timeout_ > std::chrono::nanoseconds::zero()) {
        shutdown_ = Shutdown::closing;
        log_->info(
            "signal {}: closing every connection (at most {} ms; a second signal stops at once)",
            signal, shutdown_timeout_ / std::chrono::milliseconds(1));
        close_apps();
        shutdown_bound_timer_ =
            scheduler_->add_timer(scheduler_->now() + shutdown_timeout_, [this] {
                shutdown_bound_timer_ = 0;
                const std::size_t open = open_connections();
                log_->warn("run.shutdown_timeout passed with {} connection(s) open: resetting them",
                           open);
                abort_connections();
                shutdown_status_ = kExitShutdownTimeout;
                scheduler_->stop();
            });
        check_closed();
        return;
    }
    if (shutdown_ == Shutdown::closing) {
        log_->warn("signal {} during the shutdown: resetting {} connection(s), stopping now",
                   signal, open_connections());
        abort_connections();
        shutdown_status_ = 128 + signal;
    } else {
        log_->info("signal {}: stopping", signal);  // shutdown_timeout 0: the old way
    }
    shutdown_ = Shutdown::stopped;
    scheduler_->stop();
}

void Runtime::close_apps() {
    for (auto& stack : stacks_) {
        for (const auto& app : stack->apps) {
            const CounterSource* source = app.get();
            for (auto& entry : counted_)
                if (entry.source.get() == source)
                    entry.source = std::make_shared<CounterSnapshot>(*app);
        }
        // Destroying an app destroys its coroutines, whose streams close (TcpConnection's
        // contract: a FIN, or an RST over unread data) and whose listeners reset the connections
        // never accepted. A finite app destroyed here never finishes: the run's status says so.
        stack->apps.clear();
    }
}

std::size_t Runtime::open_connections() const {
    std::size_t open = 0;
    for (const auto& stack : stacks_)
        if (stack->tcp) open += stack->tcp->open_connections();
    return open;
}

void Runtime::abort_connections() {
    for (auto& stack : stacks_)
        if (stack->tcp) stack->tcp->abort_connections();
}

void Runtime::check_closed() {
    shutdown_poll_timer_ = 0;
    if (shutdown_ != Shutdown::closing) return;
    if (open_connections() == 0) {
        log_->info("every connection closed");
        shutdown_ = Shutdown::stopped;
        scheduler_->stop();
        return;
    }
    shutdown_poll_timer_ = scheduler_->add_timer(scheduler_->now() + kShutdownPollInterval,
                                                 [this] { check_closed(); });
}

void Runtime::end_shutdown() {
    // The loop stopped (for whatever reason): no shutdown timer may fire in a later run.
    if (shutdown_bound_timer_) scheduler_->cancel_timer(std::exchange(shutdown_bound_timer_, 0));
    if (shutdown_poll_timer_) scheduler_->cancel_timer(std::exchange(shutdown_poll_timer_, 0));
}

}  // namespace netloom::host
