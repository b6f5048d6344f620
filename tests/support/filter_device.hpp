// filter_device.hpp — a NetDevice decorator for engine tests: a predicate sees every transmitted
// frame and may drop it (counted); everything else passes to the inner device unchanged.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "netloom/netdev.hpp"

namespace netloom::testing {

class FilterDevice final : public NetDevice {
public:
    explicit FilterDevice(std::shared_ptr<NetDevice> inner) : inner_(std::move(inner)) {}
    /// Returns true to drop the frame; may also just look (record) and return false.
    std::function<bool(std::span<const std::uint8_t> frame)> drop;
    std::uint64_t dropped = 0;

    std::uint32_t mtu() const noexcept override { return inner_->mtu(); }
    MacAddress mac() const noexcept override { return inner_->mac(); }
    DeviceCapabilities capabilities() const noexcept override { return inner_->capabilities(); }
    std::string describe() const override { return "filter > " + inner_->describe(); }
    void attach(Scheduler& scheduler, std::function<void()> rx_ready) override {
        inner_->attach(scheduler, std::move(rx_ready));
    }
    bool transmit(Packet&& frame) override {
        if (drop && drop(frame.bytes())) {
            ++dropped;
            return true;
        }
        return inner_->transmit(std::move(frame));
    }
    std::size_t poll(std::size_t max, const FrameSink& sink) override {
        return inner_->poll(max, sink);
    }
    void visit_counters(const CounterVisitor& visit) const override {
        inner_->visit_counters(visit);
    }

private:
    std::shared_ptr<NetDevice> inner_;
};

}  // namespace netloom::testing
