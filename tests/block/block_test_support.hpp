// block_test_support.hpp — what the block tests share: an Env that builds block devices from
// YAML with the drivers' factories (the decorator's inner too), files in a private temporary
// directory, byte patterns, and loops that wait for completions.
//
// Contract: BlockTestEnv::make_block dispatches on `use:` to the factories of the drivers listed
// in block_drivers.hpp (BlockDrivers) or registered with `provide`; `block(name)` finds devices
// added with `add_block`; the logger discards everything. TempDir is created in the working
// directory (the build tree, so O_DIRECT works where /tmp is tmpfs) and removed with everything in
// it. run_until runs a scheduler until a predicate holds, failing after a wall-clock timeout
// rather than hanging.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "netloom/block.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "netloom/scheduler.hpp"

namespace netloom::testing {

using Bytes = std::vector<std::uint8_t>;

/// `size` bytes of a pattern that differs with `seed` and with the offset.
inline Bytes pattern(std::size_t size, std::uint64_t seed) {
    Bytes out(size);
    std::mt19937_64 random(seed);
    for (auto& b : out) b = static_cast<std::uint8_t>(random());
    return out;
}

class TempDir {
public:
    TempDir() {
        std::string templ = (std::filesystem::current_path() / "block_test.XXXXXX").string();
        if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
        path_ = templ;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    std::string write(const std::string& name, const Bytes& bytes) const {
        const std::string path = file(name);
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size()));
        if (!out) throw std::runtime_error("cannot write " + path);
        return path;
    }
    static Bytes read(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        return Bytes(std::istreambuf_iterator<char>(in), {});
    }

private:
    std::filesystem::path path_;
};

class BlockTestEnv final : public Env {
public:
    using Factory = std::function<std::shared_ptr<BlockDevice>(const Config&, Env&)>;

    /// Knows the factories of every driver of BlockDrivers (defined in block_drivers.hpp).
    explicit BlockTestEnv(Scheduler& scheduler);

    std::shared_ptr<spdlog::logger> logger(std::string_view component) override {
        return std::make_shared<spdlog::logger>(std::string(component),
                                                std::make_shared<spdlog::sinks::null_sink_mt>());
    }
    Scheduler& scheduler() override { return scheduler_; }
    Checksum& checksum() override { throw std::logic_error("block devices use no checksum"); }
    const std::string& stack_name() const override { return stack_; }
    std::shared_ptr<NetDevice> make_device(const Config&) override {
        throw std::logic_error("block tests build no network device");
    }
    bool check_only() const override { return check_only_; }

    std::shared_ptr<BlockDevice> make_block(const Config& config) override {
        const std::string use = config.get_string("use");
        auto it = factories_.find(use);
        if (it == factories_.end()) config.fail("use", "a block driver", use);
        auto device = it->second(config, *this);
        config.done();  // as the host does after every factory
        built.push_back(device);
        return device;
    }
    BlockDevice& block(std::string_view name) override {
        auto it = named_.find(std::string(name));
        if (it == named_.end()) return Env::block(name);
        return *it->second;
    }

    void provide(std::string use, Factory factory) {
        factories_[std::move(use)] = std::move(factory);
    }
    void add_block(std::string name, std::shared_ptr<BlockDevice> device) {
        named_[std::move(name)] = std::move(device);
    }
    std::shared_ptr<BlockDevice> block_from_yaml(const std::string& yaml) {
        return make_block(Config::load_string(yaml, "test.yaml"));
    }
    void set_check_only(bool on) { check_only_ = on; }

    /// Every device make_block built, inner ones first (as the host lists them in the stats).
    std::vector<std::weak_ptr<BlockDevice>> built;

private:
    Scheduler& scheduler_;
    std::string stack_ = "test";
    bool check_only_ = false;
    std::map<std::string, Factory> factories_;
    std::map<std::string, std::shared_ptr<BlockDevice>> named_;
};

/// Runs `scheduler` until `done()` holds (checked every loop turn); false after `timeout` of
/// wall-clock time (or virtual time under a virtual clock) with `done()` still false.
inline bool run_until(Scheduler& scheduler, const std::function<bool()>& done,
                      Time timeout = std::chrono::seconds(10)) {
    if (done()) return true;
    const WatchId poller = scheduler.add_poller([&] {
        if (done()) scheduler.stop();
        return false;
    });
    bool expired = false;
    const TimerId timer = scheduler.add_timer(scheduler.now() + timeout, [&] {
        expired = true;
        scheduler.stop();
    });
    scheduler.run();
    scheduler.remove_poller(poller);
    scheduler.cancel_timer(timer);
    return !expired || done();
}

/// Runs `scheduler` for `span` of its time (everything posted or due meanwhile runs).
inline void run_for(Scheduler& scheduler, Time span) {
    run_until(
        scheduler, [] { return false; }, span);
}

/// One request's outcome: filled in by the completion.
struct Outcome {
    bool completed = false;
    int error = -1;
    int calls = 0;
    BlockCompletion callback() {
        return [this](int e) {
            completed = true;
            error = e;
            ++calls;
        };
    }
};

/// Submits `request` and waits for its completion; returns its error (or -1 on a timeout).
inline int complete(Scheduler& scheduler, BlockDevice& device, const BlockRequest& request) {
    Outcome outcome;
    device.submit(request, outcome.callback());
    if (!run_until(scheduler, [&] { return outcome.completed; })) return -1;
    return outcome.error;
}

/// The whole device read in requests of `chunk` sectors (throws on an error).
inline Bytes read_all(Scheduler& scheduler, BlockDevice& device, std::uint64_t chunk = 64) {
    const BlockGeometry g = device.geometry();
    Bytes out(g.bytes());
    for (std::uint64_t s = 0; s < g.sectors; s += chunk) {
        const std::uint64_t n = std::min(chunk, g.sectors - s);
        const int error =
            complete(scheduler, device,
                     {BlockOp::read, s,
                      std::span<std::uint8_t>(out).subspan(s * g.sector_size, n * g.sector_size)});
        if (error != 0) throw std::runtime_error("read_all: error " + std::to_string(error));
    }
    return out;
}

/// The value of counter `name` of `source`, or nullopt when it has none of that name.
inline std::optional<std::uint64_t> counter(const CounterSource& source, std::string_view name) {
    std::optional<std::uint64_t> found;
    source.visit_counters([&](std::string_view n, std::uint64_t v) {
        if (n == name && !found) found = v;
    });
    return found;
}

}  // namespace netloom::testing
