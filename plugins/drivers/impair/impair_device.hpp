// impair_device.hpp — `impair`: a decorator injecting seeded faults (loss, duplication,
// corruption, delay with jitter, reordering) into the frames crossing it, like Linux netem.
//
// Contract: `direction` picks which way is impaired (tx: frames the stack transmits, rx: frames
// the inner device receives, both), each with its own ImpairPath and its own generator seeded
// from `seed`, so one direction's decisions do not depend on the other's traffic. transmit()
// accepts every frame (a lost frame is lost on the wire, not refused). poll() returns 0 only when
// the inner device has nothing more and no released frame is waiting. Frames released later by a
// timer are announced with rx_ready from that timer. mtu, mac and attach are the inner device's;
// capabilities too, except that rx checksums are no longer verified when rx corruption is on.
// With `outage_after_frames: N` the outage starts on both paths when the N-th frame enters one.
// Counters are only its own (the host lists the inner device it built through Env::make_device).
#pragma once

#include <deque>
#include <memory>
#include <optional>

#include "impair_path.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "netloom/netdev.hpp"

namespace netloom::drivers {

struct ImpairOptions {
    std::uint64_t seed = 1;
    ImpairParameters parameters;
    bool impair_tx = true;
    bool impair_rx = true;

    /// Reads and validates every key but `inner` (the factory builds it); calls config.done().
    static ImpairOptions from_config(const Config& config);
};

class ImpairDevice final : public NetDevice {
public:
    ImpairDevice(const ImpairOptions& options, std::shared_ptr<NetDevice> inner,
                 Scheduler& scheduler);
    ~ImpairDevice() override;
    ImpairDevice(const ImpairDevice&) = delete;
    ImpairDevice& operator=(const ImpairDevice&) = delete;

    std::uint32_t mtu() const noexcept override { return inner_->mtu(); }
    MacAddress mac() const noexcept override { return inner_->mac(); }
    DeviceCapabilities capabilities() const noexcept override;
    std::string describe() const override { return "impair > " + inner_->describe(); }
    void attach(Scheduler& scheduler, std::function<void()> rx_ready) override;
    bool transmit(Packet&& frame) override;
    std::size_t poll(std::size_t max, const FrameSink& sink) override;
    void visit_counters(const CounterVisitor& visit) const override;

    const ImpairPath* tx_path() const noexcept { return tx_ ? &*tx_ : nullptr; }
    const ImpairPath* rx_path() const noexcept { return rx_ ? &*rx_ : nullptr; }

private:
    struct TxOutlet final : ImpairPath::Outlet {
        ImpairDevice& device;
        explicit TxOutlet(ImpairDevice& d) : device(d) {}
        void emit(Packet&& frame) override { device.inner_->transmit(std::move(frame)); }
        void released_from_timer() override {}
    };
    struct RxOutlet final : ImpairPath::Outlet {
        ImpairDevice& device;
        explicit RxOutlet(ImpairDevice& d) : device(d) {}
        void emit(Packet&& frame) override { device.ready_.push_back(std::move(frame)); }
        void released_from_timer() override;
    };

    ImpairOptions options_;
    std::shared_ptr<NetDevice> inner_;
    std::function<void()> rx_ready_;
    TxOutlet tx_outlet_{*this};
    RxOutlet rx_outlet_{*this};
    std::optional<ImpairPath> tx_;
    std::optional<ImpairPath> rx_;
    std::deque<Packet> ready_;     ///< rx frames through the pipeline, not yet given to the stack
    FrameSink rx_intake_;          ///< built once: feeds inner's frames into rx_
    std::uint64_t frames_in_ = 0;  ///< frames that entered an impaired path (outage_after_frames)

    /// Counts one frame entering a path; starts the outage on both paths at the trigger.
    void count_frame_in() noexcept;
};

/// Generator seed of one direction: splitmix64 of (seed, direction), so tx and rx differ.
std::uint64_t impair_direction_seed(std::uint64_t seed, int direction) noexcept;

/// The factory body: reads `config`, builds `inner` through env.
std::unique_ptr<ImpairDevice> make_impair_device(const Config& config, Env& env);

}  // namespace netloom::drivers
