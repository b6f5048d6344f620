// Assembly of block devices and stacks from YAML and the run loop around the scheduler.
#include "runtime.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <stdexcept>
#include <utility>

namespace netloom::host {

class Runtime::ComponentEnv final : public Env {
public:
    ComponentEnv(Runtime& runtime, Stack* stack) : runtime_(runtime), stack_(stack) {}
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
    const std::string& stack_name() const override { return stack_ ? stack_->name : no_stack_; }
    std::shared_ptr<NetDevice> make_device(const Config& config) override {
        return runtime_.make_device(config, stack_name());
    }
    NetDevice& device() override {
        if (!stack_ || !stack_->device) throw std::logic_error("the stack has no device yet");
        return *stack_->device;
    }
    IpLayer& ip() override {
        if (!stack_ || !stack_->ip) {
            throw std::logic_error("stack '" + stack_name() +
                                   "' has no IP layer (add `ip:` to it)");
        }
        return *stack_->ip;
    }
    TcpEngine& tcp() override {
        if (!stack_ || !stack_->tcp) {
            throw std::logic_error("stack '" + stack_name() +
                                   "' has no TCP engine (add `tcp:` to it)");
        }
        return *stack_->tcp;
    }
    BlockDevice& block(std::string_view name) override { return runtime_.find_block(name); }
    std::shared_ptr<BlockDevice> make_block(const Config& config) override {
        return runtime_.make_block(config, stack_, "");
    }

private:
    Runtime& runtime_;
    Stack* stack_;
    std::string no_stack_;
};

template <typename Interface>
std::shared_ptr<Interface> Runtime::make(const Config& config, PluginKind kind, Stack* stack,
                                         std::string& used_name) {
    used_name = config.get_string("use");
    PluginHandle plugin;
    try {
        plugin = catalog_.find(used_name, kind);
    } catch (const PluginError& e) {
        config.fail_message("use", e.what());
    }
    ComponentEnv env(*this, stack);
    // A factory that throws (including Env's "this stack has no IP layer") becomes a ConfigError
    // at this component's mapping in create_object.
    auto object = instantiate<Interface>(plugin, config, env);
    config.done();  // the factory read its keys; anything left is unknown
    return object;
}

void Runtime::add_counted(std::string component, std::shared_ptr<CounterSource> source) {
    counted_.push_back({std::move(component), std::move(source)});
}

std::shared_ptr<NetDevice> Runtime::make_device(const Config& config, const std::string& stack) {
    std::string name;
    Stack* owner = nullptr;
    for (auto& s : stacks_)
        if (s->name == stack) owner = s.get();
    std::shared_ptr<NetDevice> device;
    if (auto hook = hooks_.devices.find(config.get_string("use")); hook != hooks_.devices.end()) {
        device = hook->second(config);
        config.done();
    } else {
        device = make<NetDevice>(config, PluginKind::driver, owner, name);
    }
    add_counted(stack + "/device/" + device->describe(), device);
    return device;
}

std::shared_ptr<BlockDevice> Runtime::make_block(const Config& config, Stack* stack,
                                                 const std::string& name) {
    std::string used;
    auto block = make<BlockDevice>(config, PluginKind::block, stack, used);
    std::string component;
    if (!name.empty()) {
        component = "block/" + name;  // a `blocks:` entry
    } else if (stack) {
        component = stack->name + "/block/" + block->describe();  // built by an app itself
    } else {
        // A decorator's inner device, listed under the entry being built, as a stack's inner
        // devices are listed under the stack.
        component = "block/" + building_block_ + "/" + block->describe();
    }
    add_counted(std::move(component), block);
    return block;
}

namespace {
// Block names become stats components (`block/<name>`) and are written in app configs.
bool valid_block_name(const std::string& name) {
    if (name.empty()) return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        if (!ok) return false;
    }
    return true;
}
}  // namespace

void Runtime::build_blocks(const Config& blocks) {
    for (const auto& name : blocks.keys()) {
        if (!valid_block_name(name)) {
            blocks.fail_message(name, "block device name '" + name +
                                          "': use letters, digits, '_', '-' and '.' only");
        }
        building_block_ = name;
        auto device = make_block(blocks.child(name), nullptr, name);
        building_block_.clear();
        log_->debug("block {}: {}", name, device->describe());
        blocks_.push_back({name, std::move(device)});
    }
    blocks.done();
}

BlockDevice& Runtime::find_block(std::string_view name) const {
    for (const auto& b : blocks_)
        if (b.name == name) return *b.device;
    std::string known;
    for (const auto& b : blocks_) known += (known.empty() ? "" : ", ") + b.name;
    throw std::invalid_argument("no block device named '" + std::string(name) + "' (" +
                                (known.empty() ? std::string("the config has no `blocks:` mapping")
                                               : "the config's `blocks:` has " + known) +
                                ")");
}

void Runtime::build_stack(const std::string& name, const Config& s) {
    stacks_.push_back(std::make_unique<Stack>());
    Stack& stack = *stacks_.back();
    stack.name = name;
    stack.device = make_device(s.child("device"), name);
    std::string used;
    if (s.has("ip")) {
        stack.ip = make<IpLayer>(s.child("ip"), PluginKind::ip, &stack, used);
        add_counted(name + "/ip", stack.ip);
    }
    const auto tcp_hook = hooks_.tcp.find(name);
    if (s.has("tcp") || tcp_hook != hooks_.tcp.end()) {
        if (!stack.ip)
            s.fail_message("tcp", "a TCP engine needs an IP layer: add `ip:` to the stack");
        const Config tcp = tcp_hook != hooks_.tcp.end() ? tcp_hook->second : s.child("tcp");
        stack.tcp = make<TcpEngine>(tcp, PluginKind::tcp, &stack, used);
        add_counted(name + "/tcp", stack.tcp);
    }
    std::size_t index = 0;
    for (const Config& app_config : s.child_list("apps")) {
        auto app = make<App>(app_config, PluginKind::app, &stack, used);
        // The index keeps two apps of one plugin on one stack apart in the stats.
        add_counted(name + "/app" + std::to_string(index++) + "/" + used, app);
        stack.apps.push_back(std::move(app));
    }
    s.done();
    log_->debug("stack {}: {}{}{}", name, stack.device->describe(), stack.ip ? " + ip" : "",
                stack.tcp ? " + tcp" : "");
}

Runtime::Runtime(const Config& root, const PluginCatalog& catalog, Logging& logging,
                 bool check_only, RuntimeHooks hooks)
    : catalog_(catalog),
      logging_(logging),
      log_(logging.get("host")),
      check_only_(check_only),
      hooks_(std::move(hooks)) {
    root.allow({"plugin_path", "log", "ab"});  // read by the CLI (`ab`: by `netloom ab`)
    Config run = root.child("run", true);
    if (run.has("duration")) duration_ = run.get_duration("duration");
    shutdown_timeout_ = run.get_duration("shutdown_timeout", shutdown_timeout_,
                                         std::chrono::nanoseconds::zero(), std::chrono::hours(1));
    run.done();

    std::string name;
    Config sched = root.child("scheduler", true);
    if (sched.size() == 0) sched = Config::load_string("use: epoll", "(default scheduler)");
    scheduler_ = make<Scheduler>(sched, PluginKind::scheduler, nullptr, name);
    log_->debug("scheduler: {}", name);
    // A scheduler with counters (all the shipped ones) is listed first, as `scheduler/<name>`.
    if (auto counted = std::dynamic_pointer_cast<CounterSource>(scheduler_)) {
        add_counted("scheduler/" + name, std::move(counted));
    }

    Config sum = root.child("checksum", true);
    if (sum.size() == 0) sum = Config::load_string("use: fast", "(default checksum)");
    checksum_ = make<Checksum>(sum, PluginKind::checksum, nullptr, name);
    log_->debug("checksum: {} ({})", name, checksum_->variant());

    build_blocks(root.child("blocks", true));

    Config stacks = root.child("stacks");
    for (const auto& stack_name : stacks.keys()) build_stack(stack_name, stacks.child(stack_name));
    if (stacks_.empty()) stacks.fail_message("", "at least one stack is needed");
    stacks.done();
    root.done();
}

Runtime::~Runtime() {
    // Stacks first (apps, then IP, then devices, each may hold timers on the scheduler), the
    // scheduler last. counted_ shares ownership, so it is cleared before each layer can die.
    for (auto& s : stacks_) s->apps.clear();
    for (auto& s : stacks_) s->tcp.reset();
    // counted_ holds the last references; drop them newest first (apps, then the TCP engine,
    // then IP, then devices), since an app's listener must die before its engine.
    while (!counted_.empty()) counted_.pop_back();
    stacks_.clear();
    // Block devices after every app that used them: destroying one abandons its pending requests
    // (their completions would reach apps that are gone) and waits for the kernel's.
    blocks_.clear();
    checksum_.reset();
    scheduler_.reset();
}

void Runtime::poll_stack(Stack& stack) {
    // A stack without an IP layer has nowhere to send frames: count them.
    while (stack.device->poll(64, [&](Packet&&) { ++stack.rx_unclaimed; }) > 0) {
    }
}

namespace {
int signal_pipe[2] = {-1, -1};
extern "C" void on_signal(int number) {
    char byte = static_cast<char>(number);
    [[maybe_unused]] auto n = write(signal_pipe[1], &byte, 1);
}
}  // namespace

void Runtime::start() {
    if (std::exchange(started_, true)) return;
    for (auto& stack : stacks_) {
        if (stack->ip) {
            stack->ip->start();
            if (stack->tcp) stack->tcp->start();
        } else {
            Stack* s = stack.get();
            stack->device->attach(*scheduler_, [this, s] { poll_stack(*s); });
        }
    }
}

TcpEngine* Runtime::tcp(const std::string& name) const {
    for (const auto& s : stacks_)
        if (s->name == name) return s->tcp.get();
    return nullptr;
}

int Runtime::run(std::optional<std::chrono::nanoseconds> duration,
                 std::function<void()> on_stats_request) {
    if (duration) duration_ = duration;
    start();
    for (auto& stack : stacks_) {
        for (auto& app : stack->apps) {
            if (app->finite()) ++finite_apps_running_;
            app->start([this](int status) {
                if (status != 0 && exit_status_ == 0) exit_status_ = status;
                if (finite_apps_running_ > 0 && --finite_apps_running_ == 0) {
                    log_->info("every finite app has finished");
                    scheduler_->stop();
                }
            });
        }
    }
    if (duration_) {
        scheduler_->add_timer(scheduler_->now() + *duration_, [this] {
            log_->info("run.duration elapsed");
            scheduler_->stop();
        });
    }
    WatchId signal_watch = 0;
    if (!scheduler_->virtual_clock()) {
        if (signal_pipe[0] < 0 && pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
            throw std::runtime_error("cannot create the signal pipe");
        struct sigaction action {};
        action.sa_handler = on_signal;
        sigaction(SIGINT, &action, nullptr);
        sigaction(SIGTERM, &action, nullptr);
        sigaction(SIGUSR1, &action, nullptr);
        signal_watch = scheduler_->watch_readable(signal_pipe[0], [this, on_stats_request] {
            char buffer[16];
            ssize_t n;
            while ((n = read(signal_pipe[0], buffer, sizeof buffer)) > 0) {
                for (ssize_t i = 0; i < n; ++i) {
                    if (buffer[i] == SIGUSR1) {
                        if (on_stats_request) on_stats_request();
                    } else {
                        on_stop_signal(buffer[i]);
                    }
                }
            }
        });
    }
    log_->info("running {} stack(s){}", stacks_.size(),
               duration_ ? fmt::format(" for {} ms", duration_->count() / 1000000) : std::string());
    scheduler_->run();
    end_shutdown();
    if (signal_watch) scheduler_->unwatch(signal_watch);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    std::signal(SIGUSR1, SIG_IGN);
    if (finite_apps_running_ > 0) {
        // A client cut short by run.duration or a signal did not succeed: never report 0.
        log_->error("{} finite app(s) had not finished when the run stopped", finite_apps_running_);
        if (exit_status_ == 0) exit_status_ = 1;
    }
    if (exit_status_ == 0) exit_status_ = shutdown_status_;
    return exit_status_;
}

std::vector<StatsRow> Runtime::stats() const {
    std::vector<StatsRow> rows;
    for (const auto& c : counted_) {
        c.source->visit_counters([&](std::string_view counter, std::uint64_t value) {
            rows.push_back({c.component, std::string(counter), value});
        });
    }
    for (const auto& s : stacks_) {
        if (!s->ip) rows.push_back({s->name + "/host", "rx_unclaimed", s->rx_unclaimed});
    }
    return rows;
}

}  // namespace netloom::host
