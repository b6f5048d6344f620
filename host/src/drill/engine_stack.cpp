// The engine target's stack: config checking and merging, lazy composition through
// host::Runtime, and the sim-driven clock.
#include "engine_stack.hpp"

#include <algorithm>
#include <stdexcept>

namespace netloom::drill {

namespace {

constexpr const char* kStack = "drill";
constexpr const char* kDevice = "drill";
constexpr const char* kGeneratedName = "(drill engine stack)";

std::string generated_root(const TargetOptions& o) {
    return "scheduler: {use: sim}\n"
           "stacks:\n"
           "  " +
           std::string(kStack) +
           ":\n"
           "    device: {use: " +
           kDevice +
           "}\n"
           "    ip: {use: ipv4, address: \"" +
           o.local_ip + "/" + std::to_string(o.prefix_length) + "\", gateway: \"" + o.gateway_ip +
           "\"}\n";
}

/// Microseconds as scheduler time, saturated so that absurd script times cannot overflow.
Time from_us(std::int64_t us) {
    constexpr std::int64_t kMaxUs = std::int64_t{1} << 50;  // about 35 years
    return Time{std::clamp<std::int64_t>(us, 0, kMaxUs) * 1000};
}

/// The `tcp:` keys of a YAML document holding only `tcp:`, checked the way the engines read them
/// (every error at its own file:line:column), as (key, scalar text) pairs.
std::vector<std::pair<std::string, std::string>> checked_tcp_keys(const Config& document) {
    document.allow({"tcp"});
    document.done();
    const Config tcp = document.child("tcp", true);
    tcp::read_engine_options(tcp);
    tcp.done();  // `use:` too is unknown here: the target's engine is chosen by --engine
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const std::string& key : tcp.keys()) pairs.emplace_back(key, tcp.get_string(key));
    return pairs;
}

/// Sets `key` in `pairs` (one entry per key, so merging stays linear however often a script
/// sets it); false when it already had `value`.
bool assign(std::vector<std::pair<std::string, std::string>>& pairs, const std::string& key,
            const std::string& value) {
    for (auto& [k, v] : pairs) {
        if (k != key) continue;
        if (v == value) return false;
        v = value;
        return true;
    }
    pairs.emplace_back(key, value);
    return true;
}

std::map<std::string, std::string, std::less<>> values_of(const tcp::EngineOptions& options) {
    std::map<std::string, std::string, std::less<>> values;
    tcp::visit_engine_options(options, [&](std::string_view key, std::string value) {
        values.emplace(std::string(key), std::move(value));
    });
    return values;
}

}  // namespace

EngineStack::EngineStack(const TargetOptions& options)
    : options_(options), root_(Config::load_string("{}", "(drill)")), base_tcp_(root_) {
    if (options.engine != "tcp_utcp" && options.engine != "tcp_classic")
        throw std::invalid_argument("engine target: unknown engine '" + options.engine +
                                    "' (expected tcp_utcp or tcp_classic)");
    if (options.ip_version != 4)
        throw std::invalid_argument("engine target: only --ip_version=4 is supported");
    logging_.configure(
        Config::load_string(options.verbose ? "level: debug" : "level: off", "(drill logging)"),
        "");
    catalog_ =
        std::make_unique<host::PluginCatalog>(host::default_search_path(options.plugin_path, {}));
    root_ = Config::load_string(generated_root(options), kGeneratedName);

    const Config base = options.base_config.empty() ? Config::load_string("{}", "(no --config)")
                                                    : Config::load_file(options.base_config);
    const auto base_pairs = checked_tcp_keys(base);
    base_tcp_ = base_pairs.empty() ? Config::load_string("tcp: {}", "(no --config)") : base;
    base_tcp_ = base_tcp_.with_override("tcp.use", options.engine);
    // One `//! config:` directive per line, each its own YAML mapping, later ones winning; an
    // error's line is the directive's line in extra_config (blank lines keep the numbering).
    std::size_t line = 0;
    for (std::size_t begin = 0; begin <= options.extra_config.size(); ++line) {
        const std::size_t end =
            std::min(options.extra_config.find('\n', begin), options.extra_config.size());
        const std::string text = options.extra_config.substr(begin, end - begin);
        begin = end + 1;
        if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
        const auto pairs = checked_tcp_keys(
            Config::load_string(std::string(line, '\n') + text, "config directive"));
        for (const auto& [key, value] : pairs) assign(directive_, key, value);
    }
    effective_ = tcp::read_engine_options(merged_tcp({}));

    // Load every plugin now (check only: nothing is acquired), so a missing one is reported
    // before the script runs rather than at its first listen.
    host::RuntimeHooks hooks;
    hooks.devices[kDevice] = [this](const Config&) {
        return std::make_shared<EngineDevice>(options_.mtu, [] { return std::int64_t{0}; });
    };
    hooks.tcp.insert_or_assign(kStack, merged_tcp({}));
    try {
        host::Runtime check(root_, *catalog_, logging_, true, std::move(hooks));
    } catch (const ConfigError& e) {
        // An error inside a file or directive keeps its mark; one about what this target wrote
        // itself (addresses, `use:` of a plugin that cannot be loaded) names the target.
        const std::string& file = e.mark().file;
        if (e.mark().line > 0 && file != kGeneratedName) throw;
        throw std::invalid_argument("engine target " + options.engine + ": " + e.detail());
    }
}

EngineStack::~EngineStack() = default;

Config EngineStack::merged_tcp(
    const std::vector<std::pair<std::string, std::string>>& settings) const {
    // A `//! config:` directive is the script's explicit engine knob: it wins over what its
    // sysctls and socket options map to (they are written for Linux and only approximate).
    Config root = base_tcp_;
    for (const auto& [key, value] : settings) root = root.with_override("tcp." + key, value);
    for (const auto& [key, value] : directive_) root = root.with_override("tcp." + key, value);
    return root.child("tcp");
}

std::string EngineStack::set(const std::string& key, const std::string& value) {
    auto settings = settings_;
    if (!assign(settings, key, value)) return "";  // the same value again: nothing to check
    tcp::EngineOptions candidate;
    try {
        candidate = tcp::read_engine_options(merged_tcp(settings));
    } catch (const ConfigError& e) {
        return "engine key " + key + ": " + value + " is not accepted (" + e.detail() + ")";
    }
    if (built()) {
        const auto now = values_of(effective_);
        const auto wanted = values_of(candidate);
        const auto it = now.find(key);
        if (it != now.end() && wanted.at(key) != it->second)
            return "engine key " + key +
                   " is fixed once the stack is built (at the first "
                   "listen, connect or packet): the engine has " +
                   it->second + ", asked " + wanted.at(key);
        return "";
    }
    settings_ = std::move(settings);
    effective_ = candidate;
    return "";
}

bool EngineStack::explicitly_set(const std::string& key) const {
    auto has = [&](const auto& pairs) {
        for (const auto& [k, v] : pairs)
            if (k == key) return true;
        return false;
    };
    return has(settings_) || has(directive_) || base_tcp_.child("tcp").has(key);
}

void EngineStack::build() {
    if (runtime_) return;
    host::RuntimeHooks hooks;
    hooks.devices[kDevice] = [this](const Config&) {
        auto device = std::make_shared<EngineDevice>(options_.mtu, [this] { return now_us(); });
        device_ = device.get();
        return device;
    };
    hooks.tcp.insert_or_assign(kStack, merged_tcp(settings_));
    auto runtime =
        std::make_unique<host::Runtime>(root_, *catalog_, logging_, false, std::move(hooks));
    engine_ = runtime->tcp(kStack);
    if (!engine_ || !device_) throw std::logic_error("engine target: the stack has no engine");
    runtime_ = std::move(runtime);
    device_->on_datagram([this] {
        if (stop_on_datagram_) runtime_->scheduler().stop();
    });
    runtime_->start();
}

TcpEngine& EngineStack::engine() {
    build();
    return *engine_;
}

std::optional<std::uint64_t> EngineStack::engine_counter(std::string_view name) const {
    if (!engine_) return std::nullopt;
    std::optional<std::uint64_t> found;
    engine_->visit_counters([&](std::string_view counter, std::uint64_t value) {
        if (counter == name) found = value;
    });
    return found;
}

Time EngineStack::now() const noexcept {
    return pre_build_ + (runtime_ ? runtime_->scheduler().now() : Time{0});
}

std::int64_t EngineStack::now_us() const noexcept {
    return now().count() / 1000;
}

void EngineStack::run_to(Time local) {
    Scheduler& scheduler = runtime_->scheduler();
    const TimerId timer = scheduler.add_timer(local, [&scheduler] { scheduler.stop(); });
    struct Reset {
        EngineStack& self;
        Scheduler& scheduler;
        TimerId timer;
        ~Reset() {
            scheduler.cancel_timer(timer);
            self.stop_on_datagram_ = false;
            self.waiting_ = false;
        }
    } reset{*this, scheduler, timer};
    scheduler.run();
}

void EngineStack::run_until(std::int64_t t_us) {
    const Time target = from_us(t_us);
    if (!runtime_) {
        pre_build_ = std::max(pre_build_, target);
        return;
    }
    const Time local = target - pre_build_;
    if (local < runtime_->scheduler().now()) return;
    run_to(local);
}

std::optional<CapturedPacket> EngineStack::next_packet(std::int64_t deadline_us) {
    if (device_ && !device_->empty()) return device_->pop();
    const Time deadline = from_us(deadline_us);
    if (!runtime_) {
        pre_build_ = std::max(pre_build_, deadline);
        return std::nullopt;
    }
    const Time local = deadline - pre_build_;
    if (local < runtime_->scheduler().now()) return std::nullopt;
    stop_on_datagram_ = true;
    run_to(local);
    return device_->pop();
}

void EngineStack::inject(std::span<const std::uint8_t> datagram) {
    build();
    device_->inject(datagram);
}

bool EngineStack::wait_for(const std::function<bool()>& ready, std::int64_t limit_us) {
    const Time limit = from_us(limit_us);
    while (!ready()) {
        if (now() >= limit) return false;
        if (!runtime_) {
            // Nothing exists that could make it ready: the time just passes.
            pre_build_ = limit;
            continue;
        }
        waiting_ = true;
        run_to(limit - pre_build_);
    }
    return true;
}

void EngineStack::wake() noexcept {
    if (waiting_ && runtime_) runtime_->scheduler().stop();
}

}  // namespace netloom::drill
