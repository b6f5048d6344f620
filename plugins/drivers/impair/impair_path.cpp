// One direction of fault injection: loss, duplicate, corrupt, delay/jitter, reorder.
#include "impair_path.hpp"

#include <algorithm>

namespace netloom::drivers {
namespace {

constexpr std::size_t kEthernetHeader = 14;

}  // namespace

ImpairPath::ImpairPath(const ImpairParameters& parameters, std::uint64_t seed, Scheduler& scheduler,
                       Outlet& outlet)
    : parameters_(parameters),
      delaying_(parameters.delay > Time{0} || parameters.jitter > Time{0}),
      scheduler_(&scheduler),
      outlet_(outlet),
      rng_(seed) {
    if (parameters.outage_after > Time{0}) outage_start_ = parameters.outage_after;
}

ImpairPath::~ImpairPath() {
    cancel_timers();
}

void ImpairPath::cancel_timers() noexcept {
    if (delay_timer_ != 0) scheduler_->cancel_timer(delay_timer_);
    if (hold_timer_ != 0) scheduler_->cancel_timer(hold_timer_);
    delay_timer_ = hold_timer_ = 0;
}

void ImpairPath::set_scheduler(Scheduler& scheduler) {
    if (&scheduler == scheduler_) return;
    cancel_timers();
    scheduler_ = &scheduler;
    if (!delayed_.empty()) arm_delay_timer();
    if (held_) hold_timer_ = scheduler_->add_timer(scheduler_->now(), [this] { on_hold_timer(); });
}

bool ImpairPath::in_outage() const noexcept {
    if (!outage_start_) return false;
    const Time now = scheduler_->now();
    if (now < *outage_start_) return false;
    return parameters_.outage_for <= Time{0} || now < *outage_start_ + parameters_.outage_for;
}

void ImpairPath::push(Packet&& frame) {
    // Always the same six draws, in this order (see the header).
    const double u_loss = uniform();
    const double u_duplicate = uniform();
    const double u_corrupt = uniform();
    const double u_reorder = uniform();
    const double u_jitter = uniform();
    const std::uint64_t r_position = rng_();

    if (u_loss < parameters_.loss) {
        ++counters_.lost;
        return;
    }
    if (in_outage()) {
        ++counters_.outage;
        return;
    }
    Packet copy;
    if (u_duplicate < parameters_.duplicate) {
        copy = frame.clone(frame.headroom());
        ++counters_.duplicated;
    }
    if (u_corrupt < parameters_.corrupt && frame.size() > kEthernetHeader) {
        const std::size_t span = frame.size() - kEthernetHeader;
        const std::size_t at = kEthernetHeader + static_cast<std::size_t>(r_position % span);
        frame.data()[at] ^= static_cast<std::uint8_t>(1u << ((r_position >> 40) & 7));
        ++counters_.corrupted;
    }
    const bool hold = u_reorder < parameters_.reorder;

    if (!delaying_) {
        output(std::move(frame), hold);
        if (copy) output(std::move(copy), false);
        return;
    }
    if (delayed_.size() >= parameters_.queue) {
        // A sender faster than the delay line drains: drop rather than grow without bound.
        ++counters_.dropped_queue_full;
        return;
    }
    const Time now = scheduler_->now();
    auto offset = Time{static_cast<Time::rep>((2.0 * u_jitter - 1.0) *
                                              static_cast<double>(parameters_.jitter.count()))};
    Time release = std::max(now + parameters_.delay + offset, now);
    release = std::max(release, last_release_);  // FIFO: jitter varies delay, never order
    last_release_ = release;
    ++counters_.delayed;
    delayed_.push_back({std::move(frame), release, hold});
    if (copy) delayed_.push_back({std::move(copy), release, false});
    arm_delay_timer();
}

void ImpairPath::output(Packet&& frame, bool hold) {
    if (held_) {
        // The held frame goes right after this one: one reordering.
        Packet held = std::move(held_);
        if (hold_timer_ != 0) scheduler_->cancel_timer(hold_timer_);
        hold_timer_ = 0;
        ++counters_.reordered;
        outlet_.emit(std::move(frame));
        outlet_.emit(std::move(held));
        return;
    }
    if (hold) {
        held_ = std::move(frame);
        hold_timer_ = scheduler_->add_timer(scheduler_->now() + parameters_.reorder_hold,
                                            [this] { on_hold_timer(); });
        return;
    }
    outlet_.emit(std::move(frame));
}

void ImpairPath::arm_delay_timer() {
    if (delayed_.empty()) return;
    const Time deadline = delayed_.front().release;
    if (delay_timer_ != 0) {
        if (delay_deadline_ <= deadline) return;
        scheduler_->cancel_timer(delay_timer_);
    }
    delay_deadline_ = deadline;
    delay_timer_ = scheduler_->add_timer(deadline, [this] { on_delay_timer(); });
}

void ImpairPath::on_delay_timer() {
    delay_timer_ = 0;
    const Time now = scheduler_->now();
    bool released = false;
    while (!delayed_.empty() && delayed_.front().release <= now) {
        Delayed entry = std::move(delayed_.front());
        delayed_.pop_front();
        output(std::move(entry.frame), entry.hold);
        released = true;
    }
    arm_delay_timer();
    if (released) outlet_.released_from_timer();
}

void ImpairPath::on_hold_timer() {
    hold_timer_ = 0;
    if (!held_) return;
    Packet held = std::move(held_);
    outlet_.emit(std::move(held));
    outlet_.released_from_timer();
}

}  // namespace netloom::drivers
