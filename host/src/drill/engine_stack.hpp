// engine_stack.hpp — the netloom stack behind an engine target: `sim` scheduler, `ipv4`, the
// chosen TCP engine and an EngineDevice, composed by host::Runtime from generated YAML.
//
// Contract: the constructor checks everything it can before the script runs (the --config file
// and the script's `//! config:` text as engine keys, with their own file:line:column in a
// ConfigError; that every plugin loads) and builds nothing. Settings (`tcp:` keys from socket
// options and sysctls) accumulate until `build`, which happens at the first listen, connect or
// injected packet; after it a setting is accepted only if the engine already has that value
// (engine configs are immutable). Time: microseconds since the stack object was created; before
// the build a plain counter, after it the sim clock (offset by the build time), so a script's
// minutes take milliseconds. Every loop run is bounded by a timer at its deadline.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catalog.hpp"
#include "engine_device.hpp"
#include "logging.hpp"
#include "netloom/config.hpp"
#include "netloom/tcp.hpp"
#include "netloom/tcp_common/engine_options.hpp"
#include "runtime.hpp"
#include "target.hpp"

namespace netloom::drill {

class EngineStack {
public:
    /// Throws ConfigError (a bad --config file or directive, bad addresses) or
    /// std::invalid_argument (an unknown engine or a plugin that cannot be loaded).
    explicit EngineStack(const TargetOptions& options);
    ~EngineStack();
    EngineStack(const EngineStack&) = delete;
    EngineStack& operator=(const EngineStack&) = delete;

    // ---- engine settings ----
    /// Every engine key's effective value: what the engine has, or will be built with.
    const tcp::EngineOptions& effective() const noexcept { return effective_; }
    /// Sets `tcp: {key: value}` (a YAML scalar). "" when accepted, else why not: the value is
    /// outside the engine's bounds, or the engine is built with another value.
    std::string set(const std::string& key, const std::string& value);
    /// Whether `key` was given by --config, the directive or an earlier `set`.
    bool explicitly_set(const std::string& key) const;

    bool built() const noexcept { return runtime_ != nullptr; }
    /// Builds and starts the stack (no-op once built).
    void build();
    /// The engine (building the stack first if needed).
    TcpEngine& engine();
    /// A counter of the engine (`time_wait_current`...); nullopt before the build.
    std::optional<std::uint64_t> engine_counter(std::string_view name) const;

    // ---- clock and wire ----
    std::int64_t now_us() const noexcept;
    void run_until(std::int64_t t_us);
    std::optional<CapturedPacket> next_packet(std::int64_t deadline_us);
    void inject(std::span<const std::uint8_t> datagram);
    /// Lets time pass until `ready()` or `limit_us`; returns `ready()`. Socket event callbacks
    /// call `wake` so the predicate is re-checked after each of them.
    bool wait_for(const std::function<bool()>& ready, std::int64_t limit_us);
    void wake() noexcept;

private:
    Time now() const noexcept;  // target time, as scheduler time
    Config merged_tcp(const std::vector<std::pair<std::string, std::string>>& settings) const;
    /// Runs the loop until `local` (scheduler time) or an earlier stop.
    void run_to(Time local);

    TargetOptions options_;
    host::Logging logging_;
    std::unique_ptr<host::PluginCatalog> catalog_;
    Config root_;      // generated: scheduler, stack (device, ip)
    Config base_tcp_;  // root holding `tcp:` (the --config file's, with `use:` set)
    std::vector<std::pair<std::string, std::string>> directive_;  // `//! config:` tcp keys
    std::vector<std::pair<std::string, std::string>> settings_;   // from the script, in order
    tcp::EngineOptions effective_;
    Time pre_build_{0};  // time before the build; the build's offset afterwards
    std::unique_ptr<host::Runtime> runtime_;
    EngineDevice* device_ = nullptr;
    TcpEngine* engine_ = nullptr;
    bool stop_on_datagram_ = false;
    bool waiting_ = false;
};

}  // namespace netloom::drill
