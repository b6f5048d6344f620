// runtime.hpp — a composed netloom process: one scheduler, one checksum, the named block devices
// of the config's `blocks:` mapping, and the stacks, each with its device chain, optional IP
// layer and apps.
//
// Contract: the constructor builds and validates everything (throwing ConfigError or PluginError,
// nothing half-started); block devices are built before the stacks, so apps find them through
// Env::block. `run` attaches devices and runs the scheduler until `run.duration` elapses, every
// finite app has finished, or a graceful shutdown ends; SIGUSR1 calls `on_stats_request` without
// stopping. Graceful shutdown (not under a virtual clock, which watches no signal): the first
// SIGINT/SIGTERM destroys every app (their connections close with a FIN, or an RST where unread
// data remains; their listeners reset what was never accepted; their counters are kept as they
// were), then the loop runs until no TCP engine has a connection left but in TIME-WAIT, or
// `run.shutdown_timeout` (default 5 s; 0: stop at once) passes, when the rest are reset. A second
// signal resets every connection and stops at once. Exit status: see `run`.
// Components are destroyed in reverse order of creation (apps, IP, devices, block devices,
// checksum, scheduler). `stats` reports every counter of every component (a block device as
// `block/<name>`, a decorator's inner one as `block/<name>/<its describe()>`).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog.hpp"
#include "logging.hpp"
#include "netloom/app.hpp"
#include "netloom/block.hpp"
#include "netloom/checksum.hpp"
#include "netloom/config.hpp"
#include "netloom/ip.hpp"
#include "netloom/netdev.hpp"
#include "netloom/scheduler.hpp"
#include "netloom/tcp.hpp"

namespace netloom::host {

struct StatsRow {
    std::string component;  // "server/device/pcap(x.pcap)"
    std::string counter;
    std::uint64_t value;
};

/// What a program embedding a runtime (`netloom drill`) adds to what the config describes.
struct RuntimeHooks {
    /// Devices the embedder implements itself, by `use:` name, tried before the plugin catalog.
    /// The factory reads its keys from `config` (done() is checked after it returns).
    std::map<std::string, std::function<std::shared_ptr<NetDevice>(const Config& config)>> devices;
    /// By stack name: the `tcp:` section that stack's engine is built from, instead of the
    /// stack's own `tcp:` key (errors keep this Config's own file:line:column marks).
    std::map<std::string, Config> tcp;
};

class Runtime {
public:
    /// The exit status of a graceful shutdown that had to reset connections at its bound.
    static constexpr int kExitShutdownTimeout = 3;

    /// `check_only`: validate everything, acquire nothing (see Env::check_only); do not `run`.
    Runtime(const Config& root, const PluginCatalog& catalog, Logging& logging,
            bool check_only = false, RuntimeHooks hooks = {});
    ~Runtime();
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    /// `duration` overrides the config's `run.duration` when set. Returns the exit status: the
    /// first non-zero status a finite app finished with, else 1 if a finite app was cut short,
    /// else kExitShutdownTimeout when a shutdown's bound passed with connections open, else
    /// 128 + the signal's number when a second signal stopped the shutdown, else 0.
    int run(std::optional<std::chrono::nanoseconds> duration,
            std::function<void()> on_stats_request = {});
    std::vector<StatsRow> stats() const;
    /// Starts every stack (IP layer and TCP engine, or the device's frame counting) without
    /// running the loop, for an embedder that drives the scheduler itself. Done once; `run`
    /// calls it if nobody did.
    void start();
    /// The TCP engine of stack `name`, or null when it has none (or no such stack exists).
    TcpEngine* tcp(const std::string& name) const;

    Scheduler& scheduler() { return *scheduler_; }
    std::size_t stack_count() const { return stacks_.size(); }

private:
    class ComponentEnv;
    struct Stack {
        // Member order is destruction order reversed: apps go first, the device last.
        std::string name;
        std::shared_ptr<NetDevice> device;  // outermost of the device chain
        std::shared_ptr<IpLayer> ip;        // may be null: frames are then only counted
        std::shared_ptr<TcpEngine> tcp;     // may be null; needs ip
        std::vector<std::shared_ptr<App>> apps;
        std::uint64_t rx_unclaimed = 0;  // frames with no upper layer to take them
    };
    struct Counted {
        std::string component;
        std::shared_ptr<CounterSource> source;
    };
    struct NamedBlock {
        std::string name;
        std::shared_ptr<BlockDevice> device;
    };

    std::shared_ptr<NetDevice> make_device(const Config& config, const std::string& stack);
    template <typename Interface>
    std::shared_ptr<Interface> make(const Config& config, PluginKind kind, Stack* stack,
                                    std::string& used_name);
    /// `name`: the `blocks:` entry built, or "" for a nested device (a decorator's inner, or
    /// one an app builds for itself on `stack`).
    std::shared_ptr<BlockDevice> make_block(const Config& config, Stack* stack,
                                            const std::string& name);
    void build_blocks(const Config& blocks);
    BlockDevice& find_block(std::string_view name) const;
    void build_stack(const std::string& name, const Config& config);
    void add_counted(std::string component, std::shared_ptr<CounterSource> source);
    void poll_stack(Stack& stack);

    // Graceful shutdown (shutdown.cpp).
    enum class Shutdown { none, closing, stopped };
    /// SIGINT or SIGTERM number `signal` arrived while running.
    void on_stop_signal(int signal);
    /// Destroys every app, keeping a copy of its last counters under its stats name.
    void close_apps();
    std::size_t open_connections() const;
    void abort_connections();
    /// Stops the loop when no connection is left; else looks again in a moment.
    void check_closed();
    void end_shutdown();

    const PluginCatalog& catalog_;
    Logging& logging_;
    std::shared_ptr<spdlog::logger> log_;
    bool check_only_;
    RuntimeHooks hooks_;
    bool started_ = false;
    std::optional<std::chrono::nanoseconds> duration_;
    std::chrono::nanoseconds shutdown_timeout_ = std::chrono::seconds(5);
    Shutdown shutdown_ = Shutdown::none;
    TimerId shutdown_bound_timer_ = 0;
    TimerId shutdown_poll_timer_ = 0;
    int shutdown_status_ = 0;  ///< kExitShutdownTimeout or 128 + signal, when one applies
    // Declaration order is destruction order reversed: stacks go first, the scheduler last.
    std::shared_ptr<Scheduler> scheduler_;
    std::shared_ptr<Checksum> checksum_;
    std::vector<Counted> counted_;
    std::vector<NamedBlock> blocks_;  // in document order; outlive every stack
    std::string building_block_;      // the `blocks:` entry being built (names nested devices)
    std::vector<std::unique_ptr<Stack>> stacks_;  // stable addresses: callbacks hold Stack*
    std::size_t finite_apps_running_ = 0;
    int exit_status_ = 0;
};

}  // namespace netloom::host
