// driver_test_support.hpp — what the driver tests share: an Env that builds devices from YAML
// with the driver factories (plus test doubles registered by name), a recording device to put
// under decorators, and a frame builder.
//
// Contract: TestEnv::make_device dispatches on `use:` to wire/impair/pcap/tap or to a factory the
// test registered with `provide`; the logger discards everything. RecordingDevice keeps every
// transmitted frame's bytes and hands out frames queued with `inject` on poll().
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "impair_device.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "netloom/netdev.hpp"
#include "pcap_device.hpp"
#include "tap_device.hpp"
#include "wire_device.hpp"

namespace netloom::testing {

using Bytes = std::vector<std::uint8_t>;

inline MacAddress mac_of(const char* text) {
    MacAddress mac;
    if (!MacAddress::parse(text, mac)) throw std::invalid_argument(text);
    return mac;
}

/// An Ethernet II frame of `size` bytes: dst, src, EtherType 0x88b5 (IEEE 802 local
/// experimental), then `tag` as 4 big-endian bytes, then a pattern derived from `tag`. Below 18
/// bytes it is the first `size` bytes of that (a runt, for tests of short frames).
inline Packet make_frame(const MacAddress& dst, const MacAddress& src, std::uint32_t tag,
                         std::size_t size = 64) {
    std::array<std::uint8_t, 18> head{};
    std::memcpy(head.data(), dst.bytes.data(), 6);
    std::memcpy(head.data() + 6, src.bytes.data(), 6);
    head[12] = 0x88;
    head[13] = 0xb5;
    for (int i = 0; i < 4; ++i) head[14 + i] = static_cast<std::uint8_t>(tag >> (24 - 8 * i));
    Packet p = Packet::allocate(size);
    auto b = p.append(size);
    if (b.size() != size) throw std::logic_error("make_frame: no room for the frame");
    std::memcpy(b.data(), head.data(), std::min(size, head.size()));
    for (std::size_t i = head.size(); i < size; ++i) b[i] = static_cast<std::uint8_t>(tag * 31 + i);
    return p;
}

inline std::uint32_t tag_of(std::span<const std::uint8_t> frame) {
    std::uint32_t tag = 0;
    for (int i = 0; i < 4; ++i) tag = (tag << 8) | frame[14 + i];
    return tag;
}

inline Bytes bytes_of(const Packet& p) {
    return Bytes(p.data(), p.data() + p.size());
}

class RecordingDevice final : public NetDevice {
public:
    explicit RecordingDevice(MacAddress mac = mac_of("02:00:00:00:00:aa")) : mac_(mac) {}
    std::uint32_t mtu() const noexcept override { return 1500; }
    MacAddress mac() const noexcept override { return mac_; }
    DeviceCapabilities capabilities() const noexcept override { return {true, 32}; }
    std::string describe() const override { return "recorder"; }
    void attach(Scheduler&, std::function<void()> rx_ready) override {
        rx_ready_ = std::move(rx_ready);
    }
    bool transmit(Packet&& frame) override {
        sent.push_back(bytes_of(frame));
        return true;
    }
    std::size_t poll(std::size_t max, const FrameSink& sink) override {
        std::size_t n = 0;
        for (; n < max && !inbox.empty(); ++n) {
            Packet p = std::move(inbox.front());
            inbox.pop_front();
            sink(std::move(p));
        }
        ++polls;
        return n;
    }
    void visit_counters(const CounterVisitor& visit) const override {
        visit("recorder_sent", sent.size());
    }
    void inject(Packet&& frame) { inbox.push_back(std::move(frame)); }
    void notify() {
        if (rx_ready_) rx_ready_();
    }

    std::vector<Bytes> sent;
    std::deque<Packet> inbox;
    std::size_t polls = 0;

private:
    MacAddress mac_;
    std::function<void()> rx_ready_;
};

class TestEnv final : public Env {
public:
    using Factory = std::function<std::shared_ptr<NetDevice>(const Config&)>;

    explicit TestEnv(Scheduler& scheduler, std::string stack = "test")
        : scheduler_(scheduler), stack_(std::move(stack)) {}

    std::shared_ptr<spdlog::logger> logger(std::string_view component) override {
        return std::make_shared<spdlog::logger>(std::string(component),
                                                std::make_shared<spdlog::sinks::null_sink_mt>());
    }
    Scheduler& scheduler() override { return scheduler_; }
    Checksum& checksum() override { throw std::logic_error("drivers do not use a checksum"); }
    const std::string& stack_name() const override { return stack_; }

    std::shared_ptr<NetDevice> make_device(const Config& config) override {
        std::string use = config.get_string("use");
        if (use == "wire") return drivers::make_wire_device(config, *this);
        if (use == "impair") return drivers::make_impair_device(config, *this);
        if (use == "pcap") return drivers::make_pcap_device(config, *this);
        if (use == "tap") return drivers::make_tap_device(config, *this);
        auto it = provided_.find(use);
        if (it == provided_.end()) config.fail("use", "a known device", use);
        return it->second(config);
    }
    /// `use: <name>` in a test config then builds what `factory` returns.
    void provide(std::string name, Factory factory) {
        provided_[std::move(name)] = std::move(factory);
    }
    /// Shortcut: `use: <name>` yields this very device.
    void provide(std::string name, std::shared_ptr<NetDevice> device) {
        provide(std::move(name), [device](const Config&) { return device; });
    }

    std::shared_ptr<NetDevice> device_from_yaml(const std::string& yaml) {
        return make_device(Config::load_string(yaml, "test.yaml"));
    }

private:
    Scheduler& scheduler_;
    std::string stack_;
    std::map<std::string, Factory> provided_;
};

/// Reads one counter by name (throws when the device has none of that name).
inline std::uint64_t counter(const NetDevice& device, std::string_view name) {
    std::optional<std::uint64_t> found;
    device.visit_counters([&](std::string_view n, std::uint64_t v) {
        if (n == name && !found) found = v;
    });
    if (!found) throw std::out_of_range("no counter " + std::string(name));
    return *found;
}

/// Polls `device` until it returns 0, collecting the frames.
inline std::vector<Packet> drain(NetDevice& device, std::size_t burst = 64) {
    std::vector<Packet> out;
    while (device.poll(burst, [&](Packet&& p) { out.push_back(std::move(p)); }) != 0) {
    }
    return out;
}

}  // namespace netloom::testing
