// blk_faults: injected EIO (chosen sectors, seeded rates) and delayed completions around an inner
// block device.
#include "faults_block.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <string>

#include "block_keys.hpp"

namespace netloom::block {

namespace {

std::optional<std::uint64_t> parse_sector(std::string_view text) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

}  // namespace

bool SectorRanges::hits(std::uint64_t first, std::uint64_t count) const noexcept {
    if (count == 0) return false;
    const std::uint64_t last = first + (count - 1);
    for (const auto& [low, high] : ranges) {
        if (low <= last && first <= high) return true;
    }
    return false;
}

SectorRanges SectorRanges::from_config(const Config& config, std::string_view key) {
    SectorRanges out;
    for (const std::string& item : config.get_string_list(key, std::vector<std::string>{})) {
        const std::size_t dash = item.find('-');
        auto low = parse_sector(std::string_view(item).substr(0, dash));
        auto high =
            dash == std::string::npos ? low : parse_sector(std::string_view(item).substr(dash + 1));
        if (!low || !high || *high < *low) {
            config.fail(key, "a list of sectors and inclusive ranges, e.g. [7, 100-199]",
                        "\"" + item + "\"");
        }
        out.ranges.emplace_back(*low, *high);
    }
    return out;
}

FaultsOptions FaultsOptions::from_config(const Config& config) {
    FaultsOptions o;
    config.allow({"use", "inner"});  // `use`: read by the host; `inner`: built by the factory
    o.seed = static_cast<std::uint64_t>(config.get_int("seed", 1, 0));
    o.read_errors = SectorRanges::from_config(config, "read_errors");
    o.write_errors = SectorRanges::from_config(config, "write_errors");
    o.read_error_rate = config.get_double("read_error_rate", 0.0, 0.0, 1.0);
    o.write_error_rate = config.get_double("write_error_rate", 0.0, 0.0, 1.0);
    o.latency = config.get_duration("latency", Time{0}, Time{0}, std::chrono::seconds(60));
    o.jitter = config.get_duration("jitter", Time{0}, Time{0}, std::chrono::seconds(60));
    config.done();
    return o;
}

FaultsBlockDevice::FaultsBlockDevice(const FaultsOptions& options,
                                     std::shared_ptr<BlockDevice> inner, Scheduler& scheduler)
    : options_(options), inner_(std::move(inner)), scheduler_(scheduler), random_(options.seed) {}

FaultsBlockDevice::~FaultsBlockDevice() {
    for (const auto& [key, timer] : timers_) scheduler_.cancel_timer(timer);
}

double FaultsBlockDevice::draw() noexcept {
    return static_cast<double>(random_() >> 11) * 0x1.0p-53;  // uniform in [0, 1)
}

void FaultsBlockDevice::submit(const BlockRequest& request, BlockCompletion done) {
    Time delay = options_.latency;
    int injected = 0;
    if (request.op != BlockOp::flush) {
        const double error_draw = draw();
        const double jitter_draw = draw();
        if (options_.jitter.count() > 0) {
            const auto offset = static_cast<Time::rep>(
                (jitter_draw * 2 - 1) * static_cast<double>(options_.jitter.count()));
            delay = std::max(Time{0}, delay + Time{offset});
        }
        const BlockGeometry g = inner_->geometry();
        // A request the inner device refuses (EINVAL, EROFS) is refused there, not failed here.
        if (refusal(g, request) == 0) {
            const std::uint64_t count = request.buffer.size() / g.sector_size;
            const bool read = request.op == BlockOp::read;
            const SectorRanges& chosen = read ? options_.read_errors : options_.write_errors;
            const double rate = read ? options_.read_error_rate : options_.write_error_rate;
            if (chosen.hits(request.sector, count)) {
                injected = EIO;
                ++(read ? counts_.read_sector_eio : counts_.write_sector_eio);
            } else if (error_draw < rate) {
                injected = EIO;
                ++(read ? counts_.read_random_eio : counts_.write_random_eio);
            }
        }
    }
    if (injected != 0) {
        deliver(std::move(done), injected, delay, false);
        return;
    }
    std::weak_ptr<bool> alive = alive_;
    inner_->submit(request, [this, alive, done = std::move(done), delay](int error) mutable {
        if (alive.expired()) return;  // the inner device outlived us (a test holding it)
        deliver(std::move(done), error, delay, true);
    });
}

void FaultsBlockDevice::deliver(BlockCompletion done, int error, Time delay, bool may_run_now) {
    if (delay.count() == 0) {
        if (may_run_now) {
            done(error);
            return;
        }
        std::weak_ptr<bool> alive = alive_;
        scheduler_.post([alive, done = std::move(done), error] {
            if (!alive.expired()) done(error);
        });
        return;
    }
    const std::uint64_t key = next_timer_key_++;
    ++counts_.delayed;
    timers_[key] =
        scheduler_.add_timer(scheduler_.now() + delay, [this, key, done = std::move(done), error] {
            timers_.erase(key);
            done(error);
        });
    counts_.delayed_peak = std::max<std::uint64_t>(counts_.delayed_peak, timers_.size());
}

void FaultsBlockDevice::visit_counters(const CounterVisitor& visit) const {
    visit("faults_read_sector_eio", counts_.read_sector_eio);
    visit("faults_write_sector_eio", counts_.write_sector_eio);
    visit("faults_read_random_eio", counts_.read_random_eio);
    visit("faults_write_random_eio", counts_.write_random_eio);
    visit("faults_delayed", counts_.delayed);
    visit("faults_delayed_current", timers_.size());
    visit("faults_delayed_peak", counts_.delayed_peak);
}

std::unique_ptr<FaultsBlockDevice> make_faults_block(const Config& config, Env& env) {
    const FaultsOptions options = FaultsOptions::from_config(config);
    auto inner = env.make_block(config.child("inner"));
    return std::make_unique<FaultsBlockDevice>(options, std::move(inner), env.scheduler());
}

}  // namespace netloom::block
