// Assembly of stacks from YAML and the run loop around the scheduler.
#include "runtime.hpp"

#include <csignal>
#include <fcntl.h>
#include <unistd.h>

namespace netloom::host {

class Runtime::ComponentEnv final : public Env {
public:
    ComponentEnv(Runtime& runtime, std::string stack) : runtime_(runtime), stack_(std::move(stack)) {}
    bool check_only() const override { return runtime_.check_only_; }
    std::shared_ptr<spdlog::logger> logger(std::string_view component) override {
        return runtime_.logging_.get(component);
    }
    Scheduler& scheduler() override {
        if (!runtime_.scheduler_) throw std::logic_error("the scheduler is not created yet");
        return *runtime_.scheduler_;
    }
    Checksum& checksum() override {
        if (!runtime_.checksum_) throw std::logic_error("the checksum is not created yet");
        return *runtime_.checksum_;
    }
    const std::string& stack_name() const override { return stack_; }
    std::shared_ptr<NetDevice> make_device(const Config& config) override {
        return runtime_.make_device(config, stack_);
    }

private:
    Runtime& runtime_;
    std::string stack_;
};

template <typename Interface>
std::shared_ptr<Interface> Runtime::make(const Config& config, PluginKind kind, const std::string& stack,
                                         std::string& used_name) {
    used_name = config.get_string("use");
    PluginHandle plugin;
    try {
        plugin = catalog_.find(used_name, kind);
    } catch (const PluginError& e) {
        config.fail_message("use", e.what());
    }
    ComponentEnv env(*this, stack);
    auto object = instantiate<Interface>(plugin, config, env);
    config.done();  // the factory read its keys; anything left is unknown
    return object;
}

std::shared_ptr<NetDevice> Runtime::make_device(const Config& config, const std::string& stack) {
    std::string name;
    auto device = make<NetDevice>(config, PluginKind::driver, stack, name);
    counted_.push_back({stack + "/device/" + device->describe(), device});
    return device;
}

Runtime::Runtime(const Config& root, const PluginCatalog& catalog, Logging& logging, bool check_only)
    : catalog_(catalog), logging_(logging), log_(logging.get("host")), check_only_(check_only) {
    root.allow({"plugin_path", "log"});  // read by the CLI before the runtime exists
    Config run = root.child("run", true);
    if (run.has("duration")) duration_ = run.get_duration("duration");
    run.done();

    std::string name;
    Config sched = root.child("scheduler", true);
    if (sched.size() == 0) sched = Config::load_string("use: epoll", "(default scheduler)");
    scheduler_ = make<Scheduler>(sched, PluginKind::scheduler, "", name);
    log_->debug("scheduler: {}", name);

    Config sum = root.child("checksum", true);
    if (sum.size() == 0) sum = Config::load_string("use: fast", "(default checksum)");
    checksum_ = make<Checksum>(sum, PluginKind::checksum, "", name);
    log_->debug("checksum: {} ({})", name, checksum_->variant());

    Config stacks = root.child("stacks");
    for (const auto& stack_name : stacks.keys()) {
        Config s = stacks.child(stack_name);
        Stack stack;
        stack.name = stack_name;
        stack.device = make_device(s.child("device"), stack_name);
        s.done();
        log_->debug("stack {}: {}", stack_name, stack.device->describe());
        stacks_.push_back(std::move(stack));
    }
    if (stacks_.empty()) stacks.fail_message("", "at least one stack is needed");
    stacks.done();
    root.done();
}

Runtime::~Runtime() {
    // Devices first (they may hold timers and watches on the scheduler), the scheduler last.
    stacks_.clear();
    counted_.clear();
    checksum_.reset();
    scheduler_.reset();
}

void Runtime::poll_stack(Stack& stack) {
    // Until an IP layer is configured for the stack, frames have nowhere to go: count them.
    while (stack.device->poll(64, [&](Packet&&) { ++stack.rx_unclaimed; }) > 0) {
    }
}

namespace {
int signal_pipe[2] = {-1, -1};
extern "C" void on_stop_signal(int) {
    char byte = 1;
    [[maybe_unused]] auto n = write(signal_pipe[1], &byte, 1);
}
}  // namespace

void Runtime::run(std::optional<std::chrono::nanoseconds> duration) {
    if (duration) duration_ = duration;
    for (auto& stack : stacks_) {
        Stack* s = &stack;
        stack.device->attach(*scheduler_, [this, s] { poll_stack(*s); });
    }
    if (duration_) {
        scheduler_->add_timer(scheduler_->now() + *duration_, [this] { scheduler_->stop(); });
    }
    WatchId signal_watch = 0;
    if (!scheduler_->virtual_clock()) {
        if (signal_pipe[0] < 0 && pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
            throw std::runtime_error("cannot create the signal pipe");
        struct sigaction action {};
        action.sa_handler = on_stop_signal;
        sigaction(SIGINT, &action, nullptr);
        sigaction(SIGTERM, &action, nullptr);
        signal_watch = scheduler_->watch_readable(signal_pipe[0], [this] {
            char buffer[16];
            while (read(signal_pipe[0], buffer, sizeof buffer) > 0) {
            }
            log_->info("signal received, stopping");
            scheduler_->stop();
        });
    }
    log_->info("running {} stack(s){}", stacks_.size(),
               duration_ ? fmt::format(" for {} ms", duration_->count() / 1000000) : std::string());
    scheduler_->run();
    if (signal_watch) scheduler_->unwatch(signal_watch);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
}

std::vector<StatsRow> Runtime::stats() const {
    std::vector<StatsRow> rows;
    for (const auto& c : counted_) {
        c.source->visit_counters([&](std::string_view counter, std::uint64_t value) {
            rows.push_back({c.component, std::string(counter), value});
        });
    }
    for (const auto& s : stacks_) rows.push_back({s.name + "/host", "rx_unclaimed", s.rx_unclaimed});
    return rows;
}

}  // namespace netloom::host
