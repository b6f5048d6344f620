// pcap_device.hpp — `pcap`: a decorator that records every frame passing through it to a
// classic pcap file, and otherwise behaves exactly as its inner device.
//
// Contract: frames given to `transmit` are recorded before they are handed to the inner device
// (so a frame the inner device then drops is still in the file, as tcpdump would see it); frames
// returned by the inner `poll` are recorded before they reach the stack. Timestamps are the
// scheduler's clock when it is virtual (reproducible captures: time 0 = 1970-01-01), the wall
// clock otherwise. Records are buffered, flushed when the buffer fills, `flush_interval` after
// the first unflushed record (so a killed process leaves a readable file), and on destruction.
// mtu, mac, capabilities and attach are the inner device's; counters are only its own (the host
// lists the inner device's, which it built through Env::make_device).
#pragma once

#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "netloom/netdev.hpp"
#include "netloom/scheduler.hpp"
#include "pcap_writer.hpp"

namespace netloom::drivers {

struct PcapOptions {
    std::string file;
    std::uint32_t snaplen = 65535;
    Time flush_interval = std::chrono::milliseconds(100);

    /// Reads and validates every key but `inner` (the factory builds it); calls config.done().
    static PcapOptions from_config(const Config& config);
};

class PcapDevice final : public NetDevice {
public:
    /// Throws std::runtime_error when the file cannot be created.
    PcapDevice(PcapOptions options, std::shared_ptr<NetDevice> inner, Scheduler& scheduler,
               std::shared_ptr<spdlog::logger> log);
    ~PcapDevice() override;
    PcapDevice(const PcapDevice&) = delete;
    PcapDevice& operator=(const PcapDevice&) = delete;

    std::uint32_t mtu() const noexcept override { return inner_->mtu(); }
    MacAddress mac() const noexcept override { return inner_->mac(); }
    DeviceCapabilities capabilities() const noexcept override { return inner_->capabilities(); }
    std::string describe() const override;
    void attach(Scheduler& scheduler, std::function<void()> rx_ready) override;
    bool transmit(Packet&& frame) override;
    std::size_t poll(std::size_t max, const FrameSink& sink) override;
    void visit_counters(const CounterVisitor& visit) const override;

    /// Writes buffered records now (tests; the timer and destructor do it otherwise).
    void flush();

private:
    void record(const Packet& frame);
    void on_flush_timer();

    PcapOptions options_;
    std::shared_ptr<NetDevice> inner_;
    Scheduler* scheduler_;
    std::shared_ptr<spdlog::logger> log_;
    PcapWriter writer_;
    TimerId flush_timer_ = 0;
    bool error_logged_ = false;
    const FrameSink* outer_sink_ = nullptr;  ///< the stack's sink during a poll
    FrameSink capture_sink_;                 ///< built once: records, then forwards to outer_sink_
};

/// What `netloom check` gets instead of a PcapDevice: the validated composition, no file opened.
/// It forwards to `inner` so the checked stack is complete, but the host never runs it.
class CheckedPcapDevice final : public NetDevice {
public:
    CheckedPcapDevice(std::string file, std::shared_ptr<NetDevice> inner)
        : file_(std::move(file)), inner_(std::move(inner)) {}
    std::uint32_t mtu() const noexcept override { return inner_->mtu(); }
    MacAddress mac() const noexcept override { return inner_->mac(); }
    std::string describe() const override {
        return "pcap(" + file_ + ", checked) > " + inner_->describe();
    }
    void attach(Scheduler& s, std::function<void()> rx_ready) override {
        inner_->attach(s, std::move(rx_ready));
    }
    bool transmit(Packet&& frame) override { return inner_->transmit(std::move(frame)); }
    std::size_t poll(std::size_t max, const FrameSink& sink) override {
        return inner_->poll(max, sink);
    }
    void visit_counters(const CounterVisitor&) const override {}

private:
    std::string file_;
    std::shared_ptr<NetDevice> inner_;
};

/// The factory body: reads `config`, builds `inner` through env, opens the file (not under
/// `netloom check`, see CheckedPcapDevice).
std::unique_ptr<NetDevice> make_pcap_device(const Config& config, Env& env);

}  // namespace netloom::drivers
