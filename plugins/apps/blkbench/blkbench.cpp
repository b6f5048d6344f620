// blkbench: config keys, the factory (the device's geometry checked against them), the request
// loop and the report.
#include "blkbench.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "block_io.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "tcp_app_support.hpp"

namespace netloom::apps {

namespace {

std::uint64_t splitmix64(std::uint64_t& state) noexcept {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double microseconds(Time t) noexcept {
    return static_cast<double>(t.count()) / 1e3;
}

}  // namespace

const char* pattern_name(BlkbenchOptions::Pattern pattern) noexcept {
    switch (pattern) {
        case BlkbenchOptions::Pattern::randread: return "randread";
        case BlkbenchOptions::Pattern::randwrite: return "randwrite";
        case BlkbenchOptions::Pattern::read: return "read";
        case BlkbenchOptions::Pattern::write: return "write";
    }
    return "?";
}

BlkbenchOptions BlkbenchOptions::from_config(const Config& config) {
    BlkbenchOptions o;
    o.device = config.get_string("device");
    const std::string pattern =
        config.get_choice("pattern", {"randread", "randwrite", "read", "write"}, "randread");
    o.pattern = pattern == "randread"    ? Pattern::randread
                : pattern == "randwrite" ? Pattern::randwrite
                : pattern == "read"      ? Pattern::read
                                         : Pattern::write;
    o.block_size = config.get_size("block_size", 4096);
    if (o.block_size == 0 || o.block_size > (std::uint64_t{1} << 30)) {
        config.fail("block_size", "a size from 1 B to 1 GiB", config.get_string("block_size"));
    }
    o.queue_depth = static_cast<std::uint32_t>(config.get_int("queue_depth", 1, 1, 4096));
    o.ops = static_cast<std::uint64_t>(config.get_int("ops", 10000, 1));
    if (config.has("duration")) o.duration = config.get_duration("duration", {}, Time{1});
    o.offset = config.get_size("offset", 0);
    o.range = config.get_size("range", 0);
    o.seed = static_cast<std::uint64_t>(config.get_int("seed", 1, 0));
    o.report = config.get_string("report", "");
    return o;
}

std::unique_ptr<App> make_blkbench(const Config& config, Env& env) {
    BlkbenchOptions o = BlkbenchOptions::from_config(config);
    config.done();
    BlockDevice* device = &block_device(config, env, "device");
    // Under `netloom check` devices are not opened, so their geometry is not known yet.
    if (!env.check_only()) {
        const BlockGeometry g = device->geometry();
        if (o.block_size % g.sector_size != 0) {
            config.fail(
                "block_size",
                "a whole number of the device's " + std::to_string(g.sector_size) + "-byte sectors",
                config.get_string("block_size"));
        }
        if (o.offset % o.block_size != 0 || o.offset >= g.bytes()) {
            config.fail("offset",
                        "a whole number of blocks inside the device (" + std::to_string(g.bytes()) +
                            " bytes)",
                        config.get_string("offset"));
        }
        if (o.range == 0) o.range = g.bytes() - o.offset;
        if (o.range < o.block_size || o.range > g.bytes() - o.offset) {
            config.fail("range",
                        "at least one block and within the device's " +
                            std::to_string(g.bytes() - o.offset) + " bytes from offset",
                        config.has("range") ? config.get_string("range") : "the rest is smaller");
        }
        if (o.writes() && g.read_only) {
            config.fail("pattern", "a read pattern: device '" + o.device + "' is read-only",
                        pattern_name(o.pattern));
        }
    }
    return std::make_unique<BlkbenchApp>(std::move(o), *device, env.scheduler(),
                                         env.logger("app.blkbench"));
}

BlkbenchApp::BlkbenchApp(BlkbenchOptions options, BlockDevice& device, Scheduler& sched,
                         std::shared_ptr<spdlog::logger> log)
    : options_(std::move(options)), device_(device), sched_(sched), log_(std::move(log)) {
    rng_state_ = options_.seed;
}

void BlkbenchApp::start(std::function<void(int status)> finished) {
    finished_ = std::move(finished);
    const BlockGeometry g = device_.geometry();
    sector_size_ = g.sector_size;
    if (options_.range == 0) options_.range = g.bytes() - options_.offset;
    blocks_ = options_.range / options_.block_size;
    const auto depth =
        static_cast<std::size_t>(std::min<std::uint64_t>(options_.queue_depth, options_.ops));
    slots_.resize(depth);
    std::uint64_t fill = options_.seed;
    for (Slot& slot : slots_) {
        slot.buffer = device_.allocate(options_.block_size);
        if (!options_.writes()) continue;
        // Data worth writing (not zeros a device could shortcut), different in every buffer.
        std::uint8_t* data = slot.buffer.data();
        for (std::size_t i = 0; i < slot.buffer.size(); i += 8) {
            const std::uint64_t word = splitmix64(fill);
            std::memcpy(data + i, &word, std::min<std::size_t>(8, slot.buffer.size() - i));
        }
    }
    cpu_start_ = process_cpu_seconds();
    started_ = sched_.now();
    if (options_.duration) deadline_ = started_ + *options_.duration;
    for (std::size_t slot = 0; slot < slots_.size(); ++slot) submit_next(slot);
}

std::uint64_t BlkbenchApp::next_block() noexcept {
    if (options_.random()) return splitmix64(rng_state_) % blocks_;
    const std::uint64_t block = sequential_next_;
    sequential_next_ = (sequential_next_ + 1) % blocks_;
    return block;
}

void BlkbenchApp::submit_next(std::size_t index) {
    Slot& slot = slots_[index];
    const std::uint64_t byte = options_.offset + next_block() * options_.block_size;
    const BlockOp op = options_.writes() ? BlockOp::write : BlockOp::read;
    ++submitted_;
    ++in_flight_;
    slot.submitted = sched_.now();
    device_.submit({op, byte / sector_size_, slot.buffer.span()},
                   [this, index](int error) { on_complete(index, error); });
}

void BlkbenchApp::on_complete(std::size_t index, int error) {
    const Time now = sched_.now();
    --in_flight_;
    ++completed_;
    histogram_.add(now - slots_[index].submitted);
    if (error != 0) {
        ++errors_;
        if (first_error_ == 0) first_error_ = error;
        stopping_ = true;
    }
    if (now >= deadline_) stopping_ = true;
    if (!stopping_ && submitted_ < options_.ops) {
        submit_next(index);
        return;
    }
    if (in_flight_ == 0) finish();
}

void BlkbenchApp::finish() {
    ended_ = sched_.now();
    const double seconds = to_seconds(ended_ - started_);
    const double cpu_seconds = process_cpu_seconds() - cpu_start_;
    const double iops = seconds > 0 ? static_cast<double>(completed_) / seconds : 0.0;
    const double bytes = static_cast<double>(completed_ * options_.block_size);
    log_->info(
        "blkbench {} on {}: {} x {} B, depth {}: {:.0f} IOPS, {:.2f} MB/s, latency p50 "
        "{:.1f} us p99 {:.1f} us{}",
        pattern_name(options_.pattern), options_.device, completed_, options_.block_size,
        options_.queue_depth, iops, seconds > 0 ? bytes / seconds / 1e6 : 0.0,
        microseconds(histogram_.quantile(0.5)), microseconds(histogram_.quantile(0.99)),
        first_error_ ? std::string(" (FAILED: ") + std::strerror(first_error_) + ")" : "");
    bool report_failed = false;
    if (!options_.report.empty()) {
        try {
            write_report(seconds, cpu_seconds);
        } catch (const std::exception& e) {
            log_->error("blkbench: {}", e.what());
            report_failed = true;
        }
    }
    slots_.clear();  // the buffers go back to the device before it is destroyed
    if (finished_) finished_(first_error_ == 0 && !report_failed ? 0 : 1);
}

void BlkbenchApp::write_report(double seconds, double cpu_seconds) const {
    const LatencyHistogram& h = histogram_;
    const double bytes = static_cast<double>(completed_ * options_.block_size);
    const double iops = seconds > 0 ? static_cast<double>(completed_) / seconds : 0.0;
    const double mb_per_s = seconds > 0 ? bytes / seconds / 1e6 : 0.0;
    nlohmann::json report;
    report["metrics"] = {{"iops", iops},
                         {"throughput_mb_s", mb_per_s},
                         {"latency_p50_us", microseconds(h.quantile(0.5))},
                         {"latency_p99_us", microseconds(h.quantile(0.99))}};
    report["device"] = options_.device;
    report["device_description"] = device_.describe();
    report["pattern"] = pattern_name(options_.pattern);
    report["block_size"] = options_.block_size;
    report["queue_depth"] = options_.queue_depth;
    report["offset"] = options_.offset;
    report["range"] = options_.range;
    report["ops"] = completed_;
    report["bytes"] = completed_ * options_.block_size;
    report["seconds"] = seconds;
    report["cpu_seconds"] = cpu_seconds;
    report["iops"] = iops;
    report["mb_per_s"] = mb_per_s;
    report["mib_per_s"] = seconds > 0 ? bytes / seconds / (1 << 20) : 0.0;
    report["latency_us"] = {
        {"min", microseconds(h.min())},          {"mean", microseconds(h.mean())},
        {"p50", microseconds(h.quantile(0.5))},  {"p90", microseconds(h.quantile(0.9))},
        {"p99", microseconds(h.quantile(0.99))}, {"p999", microseconds(h.quantile(0.999))},
        {"max", microseconds(h.max())}};
    report["errors"] = errors_;
    report["ok"] = first_error_ == 0;
    report["error"] =
        first_error_ == 0 ? nlohmann::json(nullptr) : nlohmann::json(std::strerror(first_error_));
    write_json_report(options_.report, report);
}

void BlkbenchApp::visit_counters(const CounterVisitor& visit) const {
    visit("ops_submitted", submitted_);
    visit("ops_completed", completed_);
    visit("errors", errors_);
    visit("in_flight_current", in_flight_);
}

}  // namespace netloom::apps
