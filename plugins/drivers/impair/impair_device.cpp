// impair: the decorator around two ImpairPaths (tx and rx).
#include "impair_device.hpp"

#include <string>

namespace netloom::drivers {

std::uint64_t impair_direction_seed(std::uint64_t seed, int direction) noexcept {
    // splitmix64 (Steele, Lea, Flood 2014) finaliser: spreads nearby seeds over the state space.
    std::uint64_t z = seed + 0x9e3779b97f4a7c15ull * static_cast<std::uint64_t>(direction + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

ImpairOptions ImpairOptions::from_config(const Config& config) {
    ImpairOptions options;
    config.allow({"use"});  // read by the host to pick this plugin
    options.seed = static_cast<std::uint64_t>(config.get_int("seed", 1, 0));
    auto& p = options.parameters;
    p.loss = config.get_double("loss", 0.0, 0.0, 1.0);
    p.duplicate = config.get_double("duplicate", 0.0, 0.0, 1.0);
    p.reorder = config.get_double("reorder", 0.0, 0.0, 1.0);
    p.corrupt = config.get_double("corrupt", 0.0, 0.0, 1.0);
    p.delay = config.get_duration("delay", Time{0});
    p.jitter = config.get_duration("jitter", Time{0});
    p.reorder_hold = config.get_duration("reorder_hold", std::chrono::milliseconds(1), Time{1});
    p.queue = static_cast<std::size_t>(config.get_int("queue", 65536, 1, 1 << 24));
    p.outage_after = config.get_duration("outage_after", Time{0});
    p.outage_for = config.get_duration("outage_for", Time{0});
    p.outage_after_frames = static_cast<std::uint64_t>(config.get_int("outage_after_frames", 0, 0));
    if (p.outage_after_frames > 0 && p.outage_after > Time{0})
        config.fail_message("outage_after_frames",
                            "give outage_after (a time) or outage_after_frames, not both");
    std::string direction = config.get_choice("direction", {"tx", "rx", "both"}, "both");
    options.impair_tx = direction != "rx";
    options.impair_rx = direction != "tx";
    config.allow({"inner"});  // built by the factory through Env::make_device
    config.done();
    return options;
}

ImpairDevice::ImpairDevice(const ImpairOptions& options, std::shared_ptr<NetDevice> inner,
                           Scheduler& scheduler)
    : options_(options), inner_(std::move(inner)) {
    if (options_.impair_tx) {
        tx_.emplace(options_.parameters, impair_direction_seed(options_.seed, 0), scheduler,
                    tx_outlet_);
    }
    if (options_.impair_rx) {
        rx_.emplace(options_.parameters, impair_direction_seed(options_.seed, 1), scheduler,
                    rx_outlet_);
    }
    rx_intake_ = [this](Packet&& frame) {
        count_frame_in();
        rx_->push(std::move(frame));
    };
}

void ImpairDevice::count_frame_in() noexcept {
    const std::uint64_t trigger = options_.parameters.outage_after_frames;
    if (trigger == 0 || ++frames_in_ != trigger) return;
    if (tx_) tx_->begin_outage();
    if (rx_) rx_->begin_outage();
}

ImpairDevice::~ImpairDevice() = default;

DeviceCapabilities ImpairDevice::capabilities() const noexcept {
    DeviceCapabilities caps = inner_->capabilities();
    if (rx_ && options_.parameters.corrupt > 0) caps.rx_checksum_verified = false;
    return caps;
}

void ImpairDevice::attach(Scheduler& scheduler, std::function<void()> rx_ready) {
    if (tx_) tx_->set_scheduler(scheduler);
    if (rx_) rx_->set_scheduler(scheduler);
    rx_ready_ = rx_ready;
    // The inner device's notifications go straight to the stack: its poll() pulls through us.
    inner_->attach(scheduler, std::move(rx_ready));
}

bool ImpairDevice::transmit(Packet&& frame) {
    if (!tx_) return inner_->transmit(std::move(frame));
    count_frame_in();
    tx_->push(std::move(frame));
    return true;
}

std::size_t ImpairDevice::poll(std::size_t max, const FrameSink& sink) {
    if (!rx_) return inner_->poll(max, sink);
    std::size_t delivered = 0;
    while (delivered < max) {
        if (!ready_.empty()) {
            Packet frame = std::move(ready_.front());
            ready_.pop_front();
            ++delivered;
            sink(std::move(frame));
            continue;
        }
        // Refill: lost, delayed or held frames make this yield fewer than it pulls, so keep
        // pulling until the inner device is empty, or the stack would stop polling too early.
        if (inner_->poll(max - delivered, rx_intake_) == 0) break;
    }
    return delivered;
}

void ImpairDevice::RxOutlet::released_from_timer() {
    if (!device.ready_.empty() && device.rx_ready_) device.rx_ready_();
}

void ImpairDevice::visit_counters(const CounterVisitor& visit) const {
    static const ImpairCounters none{};
    const ImpairCounters& tx = tx_ ? tx_->counters() : none;
    const ImpairCounters& rx = rx_ ? rx_->counters() : none;
    visit("impair_tx_lost", tx.lost);
    visit("impair_tx_duplicated", tx.duplicated);
    visit("impair_tx_corrupted", tx.corrupted);
    visit("impair_tx_delayed", tx.delayed);
    visit("impair_tx_reordered", tx.reordered);
    visit("impair_tx_dropped_queue_full", tx.dropped_queue_full);
    visit("impair_tx_outage", tx.outage);
    visit("impair_rx_lost", rx.lost);
    visit("impair_rx_duplicated", rx.duplicated);
    visit("impair_rx_corrupted", rx.corrupted);
    visit("impair_rx_delayed", rx.delayed);
    visit("impair_rx_reordered", rx.reordered);
    visit("impair_rx_dropped_queue_full", rx.dropped_queue_full);
    visit("impair_rx_outage", rx.outage);
    // Not the inner device's: the host builds it through Env::make_device and lists it itself.
}

std::unique_ptr<ImpairDevice> make_impair_device(const Config& config, Env& env) {
    auto options = ImpairOptions::from_config(config);
    return std::make_unique<ImpairDevice>(options, env.make_device(config.child("inner")),
                                          env.scheduler());
}

}  // namespace netloom::drivers
