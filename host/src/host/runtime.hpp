// runtime.hpp — a composed netloom process: one scheduler, one checksum, and the stacks of a
// config, each with its device chain (and, as they land, IP, TCP and apps).
//
// Contract: the constructor builds and validates everything (throwing ConfigError or PluginError,
// nothing half-started); `run` attaches devices and runs the scheduler until `run.duration`
// elapses, every app has finished, or SIGINT/SIGTERM. Components are destroyed in reverse order
// of creation. `visit_stats` reports every counter of every component.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog.hpp"
#include "logging.hpp"
#include "netloom/checksum.hpp"
#include "netloom/config.hpp"
#include "netloom/netdev.hpp"
#include "netloom/scheduler.hpp"

namespace netloom::host {

struct StatsRow {
    std::string component;  // "server/device/pcap(x.pcap)"
    std::string counter;
    std::uint64_t value;
};

class Runtime {
public:
    /// `check_only`: validate everything, acquire nothing (see Env::check_only); do not `run`.
    Runtime(const Config& root, const PluginCatalog& catalog, Logging& logging, bool check_only = false);
    ~Runtime();
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    /// `duration` overrides the config's `run.duration` when set.
    void run(std::optional<std::chrono::nanoseconds> duration);
    std::vector<StatsRow> stats() const;

    Scheduler& scheduler() { return *scheduler_; }
    std::size_t stack_count() const { return stacks_.size(); }

private:
    class ComponentEnv;
    struct Stack {
        std::string name;
        std::shared_ptr<NetDevice> device;  // outermost of the device chain
        std::uint64_t rx_unclaimed = 0;     // frames with no upper layer to take them
    };
    struct Counted {
        std::string component;
        std::shared_ptr<CounterSource> source;
    };

    std::shared_ptr<NetDevice> make_device(const Config& config, const std::string& stack);
    template <typename Interface>
    std::shared_ptr<Interface> make(const Config& config, PluginKind kind, const std::string& stack,
                                    std::string& used_name);
    void poll_stack(Stack& stack);

    const PluginCatalog& catalog_;
    Logging& logging_;
    std::shared_ptr<spdlog::logger> log_;
    bool check_only_;
    std::optional<std::chrono::nanoseconds> duration_;
    // Declaration order is destruction order reversed: stacks go first, the scheduler last.
    std::shared_ptr<Scheduler> scheduler_;
    std::shared_ptr<Checksum> checksum_;
    std::vector<Counted> counted_;
    std::vector<Stack> stacks_;
};

}  // namespace netloom::host
