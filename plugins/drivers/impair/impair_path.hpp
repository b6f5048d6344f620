// impair_path.hpp — the fault-injection pipeline of one direction (tx or rx) of `impair`.
//
// Contract: `push` takes each frame in order and makes its decisions from a fixed number of
// draws of a seeded std::mt19937_64 (six per frame, whatever the probabilities), so the same seed
// and the same frame sequence give the same faults, and changing one probability does not
// reshuffle the others' decisions. Stages, in order: loss; duplicate (the copy is clean, as with
// netem); outage (frames inside the configured outage window are dropped after the draws, so an
// outage does not shift later decisions); corrupt (one bit of one byte after the 14-byte Ethernet
// header, so L3/L4 checksums catch it); delay (delay ± uniform jitter, clamped at 0, released in
// FIFO order: jitter does not reorder); reorder (the frame is held back and released right after
// the next frame, or after `reorder_hold` if none comes). Surviving frames go to the Outlet, from
// `push` itself when nothing delays them, else from scheduler timers followed by
// `Outlet::released_from_timer()`.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <random>

#include "netloom/packet.hpp"
#include "netloom/scheduler.hpp"

namespace netloom::drivers {

struct ImpairParameters {
    double loss = 0, duplicate = 0, reorder = 0, corrupt = 0;  ///< probabilities in [0, 1]
    Time delay{0}, jitter{0};
    Time reorder_hold = std::chrono::milliseconds(1);
    std::size_t queue = 65536;  ///< frames the delay line may hold; beyond, drops are counted
    /// A link outage: every frame is dropped from `outage_after` (scheduler time; 0: never) for
    /// `outage_for` (0: for good). The peer "vanishes" without a RST or an ICMP error.
    Time outage_after{0}, outage_for{0};
    /// Or the outage begins with the N-th frame entering the device (either impaired direction,
    /// counted before any fault; 0: not used): a soak can start it mid-transfer whatever the
    /// transfer's speed. The device calls ImpairPath::begin_outage on both paths then.
    std::uint64_t outage_after_frames = 0;
};

struct ImpairCounters {
    std::uint64_t lost = 0, duplicated = 0, corrupted = 0, delayed = 0, reordered = 0;
    std::uint64_t dropped_queue_full = 0;  ///< the delay line was full (memory stays bounded)
    std::uint64_t outage = 0;              ///< dropped during the configured outage
};

class ImpairPath {
public:
    class Outlet {
    public:
        virtual ~Outlet() = default;
        virtual void emit(Packet&& frame) = 0;
        /// After a timer released one or more frames (the rx side announces them here).
        virtual void released_from_timer() = 0;
    };

    ImpairPath(const ImpairParameters& parameters, std::uint64_t seed, Scheduler& scheduler,
               Outlet& outlet);
    ~ImpairPath();
    ImpairPath(const ImpairPath&) = delete;
    ImpairPath& operator=(const ImpairPath&) = delete;

    void push(Packet&& frame);
    void set_scheduler(Scheduler& scheduler);
    /// Starts the outage (of `outage_for`) now: the `outage_after_frames` trigger.
    void begin_outage() noexcept { outage_start_ = scheduler_->now(); }
    const ImpairCounters& counters() const noexcept { return counters_; }
    /// Frames inside the pipeline (delayed or held back).
    std::size_t pending() const noexcept { return delayed_.size() + (held_ ? 1 : 0); }

private:
    struct Delayed {
        Packet frame;
        Time release;
        bool hold;  ///< reorder decision, taken when the frame entered
    };

    double uniform() noexcept { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }
    bool in_outage() const noexcept;
    void output(Packet&& frame, bool hold);
    void arm_delay_timer();
    void on_delay_timer();
    void on_hold_timer();
    void cancel_timers() noexcept;

    ImpairParameters parameters_;
    bool delaying_;
    Scheduler* scheduler_;
    Outlet& outlet_;
    std::mt19937_64 rng_;
    std::deque<Delayed> delayed_;  ///< release times never decrease
    Time last_release_{0};
    std::optional<Time> outage_start_;  ///< `outage_after`, or when begin_outage() was called
    TimerId delay_timer_ = 0;
    Time delay_deadline_{0};
    Packet held_;
    TimerId hold_timer_ = 0;
    ImpairCounters counters_;
};

}  // namespace netloom::drivers
