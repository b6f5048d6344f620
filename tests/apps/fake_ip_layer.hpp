// fake_ip_layer.hpp — FakeIpLayer: an IpLayer test double for app tests, a loopback "network"
// with a fixed one-way latency and hooks to lose, corrupt or duplicate what crosses it; and
// AppTestEnv, an Env that hands it to app factories.
//
// Contract: UDP datagrams sent to the layer's own address reach the socket bound to the
// destination port `latency` later (from = own address and the sender's port); with no socket
// there, the sender's socket records an ICMP port unreachable (as a real peer would answer).
// Echo requests to `echo_responder` are answered `2 * latency` later; others vanish. `mangle` sees
// every delivery first and may change the bytes, drop it (return 0) or deliver it several times
// (return n). Everything runs on the scheduler given. checksum() must not be called (apps have no
// use for it).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "netloom/env.hpp"
#include "netloom/ip.hpp"
#include "netloom/scheduler.hpp"

namespace netloom::testing {

class FakeIpLayer final : public IpLayer {
public:
    /// Returns how many copies to deliver (0 drops); may edit the bytes.
    using Mangle = std::function<int(std::vector<std::uint8_t>& bytes)>;

    FakeIpLayer(Scheduler& scheduler, Ipv4Address own, Time latency)
        : scheduler_(scheduler), own_(own), latency_(latency) {}

    Ipv4Cidr address() const noexcept override { return {own_, 24}; }
    std::uint32_t mtu() const noexcept override { return 1500; }
    const Checksum& checksum() const noexcept override { return *checksum_; }
    void start() override {}
    void register_transport(IpProtocol, Transport*) override {}
    IpSendStatus output(Ipv4Address, IpProtocol, Packet&&, const IpSendOptions&) override {
        return IpSendStatus::dropped;
    }
    void visit_counters(const CounterVisitor& visit) const override { visit("udp_sent", udp_sent); }

    class Socket final : public UdpSocket {
    public:
        Socket(FakeIpLayer& ip, std::uint16_t port) : ip_(ip), port_(port) {}
        ~Socket() override { ip_.sockets_.erase(port_); }
        std::uint16_t local_port() const noexcept override { return port_; }
        IpSendStatus send_to(const UdpEndpoint& to, std::span<const std::uint8_t> data) override {
            return ip_.deliver_udp(port_, to, {data.begin(), data.end()});
        }
        std::optional<UdpDatagram> receive() override {
            if (queue_.empty()) return std::nullopt;
            UdpDatagram d = std::move(queue_.front());
            queue_.pop_front();
            return d;
        }
        void on_readable(std::function<void()> callback) override {
            readable_ = std::move(callback);
        }
        std::optional<IcmpErrorReport> take_error() override {
            auto e = error_;
            error_.reset();
            return e;
        }

    private:
        friend class FakeIpLayer;
        void push(UdpDatagram&& d) {
            queue_.push_back(std::move(d));
            if (readable_) readable_();
        }
        void fail(const IcmpErrorReport& report) {
            error_ = report;
            if (readable_) readable_();
        }
        FakeIpLayer& ip_;
        std::uint16_t port_;
        std::deque<UdpDatagram> queue_;
        std::optional<IcmpErrorReport> error_;
        std::function<void()> readable_;
    };

    std::unique_ptr<UdpSocket> udp_bind(std::uint16_t port) override {
        if (port == 0) port = next_ephemeral_++;
        if (sockets_.count(port)) throw std::runtime_error("port taken");
        auto socket = std::make_unique<Socket>(*this, port);
        sockets_[port] = socket.get();
        return socket;
    }

    IpSendStatus send_echo_request(Ipv4Address destination, std::uint16_t identifier,
                                   std::uint16_t sequence,
                                   std::span<const std::uint8_t> data) override {
        ++echo_requests;
        if (!echo_responder || destination != *echo_responder) return IpSendStatus::sent;
        std::vector<std::uint8_t> bytes(data.begin(), data.end());
        const int copies = mangle ? mangle(bytes) : 1;
        for (int i = 0; i < copies; ++i) {
            scheduler_.add_timer(
                scheduler_.now() + 2 * latency_, [this, destination, identifier, sequence, bytes] {
                    auto it = echo_listeners_.find(identifier);
                    if (it == echo_listeners_.end() || !it->second) return;
                    it->second(EchoReply{destination, identifier, sequence, bytes});
                });
        }
        return IpSendStatus::sent;
    }
    void on_echo_reply(std::uint16_t identifier,
                       std::function<void(const EchoReply&)> on_reply) override {
        if (on_reply) {
            echo_listeners_[identifier] = std::move(on_reply);
        } else {
            echo_listeners_.erase(identifier);
        }
    }

    bool has_echo_listener(std::uint16_t identifier) const {
        return echo_listeners_.count(identifier) != 0;
    }
    std::size_t bound_sockets() const { return sockets_.size(); }

    Mangle mangle;
    std::optional<Ipv4Address> echo_responder;
    std::uint64_t udp_sent = 0;
    std::uint64_t echo_requests = 0;

private:
    IpSendStatus deliver_udp(std::uint16_t from_port, UdpEndpoint to,
                             std::vector<std::uint8_t> bytes) {
        ++udp_sent;
        if (to.address != own_) return IpSendStatus::no_route;
        const int copies = mangle ? mangle(bytes) : 1;
        for (int i = 0; i < copies; ++i) {
            scheduler_.add_timer(scheduler_.now() + latency_, [this, from_port, to, bytes] {
                auto it = sockets_.find(to.port);
                if (it == sockets_.end()) {
                    auto sender = sockets_.find(from_port);
                    if (sender == sockets_.end()) return;
                    IcmpErrorReport report;
                    report.type = 3;
                    report.code = 3;
                    report.reporter = own_;
                    report.source = own_;
                    report.destination = to.address;
                    report.protocol = IpProtocol::udp;
                    report.source_port = from_port;
                    report.destination_port = to.port;
                    sender->second->fail(report);
                    return;
                }
                it->second->push(
                    UdpDatagram{{own_, from_port}, to.address, Packet::copy_of(bytes)});
            });
        }
        return IpSendStatus::sent;
    }

    Scheduler& scheduler_;
    Ipv4Address own_;
    Time latency_;
    const Checksum* checksum_ = nullptr;
    std::map<std::uint16_t, Socket*> sockets_;
    std::map<std::uint16_t, std::function<void(const EchoReply&)>> echo_listeners_;
    std::uint16_t next_ephemeral_ = 49152;
};

class AppTestEnv final : public Env {
public:
    AppTestEnv(Scheduler& scheduler, IpLayer* ip) : scheduler_(scheduler), ip_(ip) {}
    std::shared_ptr<spdlog::logger> logger(std::string_view component) override {
        return std::make_shared<spdlog::logger>(std::string(component),
                                                std::make_shared<spdlog::sinks::null_sink_mt>());
    }
    Scheduler& scheduler() override { return scheduler_; }
    Checksum& checksum() override { throw std::logic_error("apps do not use a checksum"); }
    const std::string& stack_name() const override { return name_; }
    std::shared_ptr<NetDevice> make_device(const Config&) override {
        throw std::logic_error("apps build no device");
    }
    IpLayer& ip() override {
        if (!ip_) throw std::logic_error("this stack has no IP layer");
        return *ip_;
    }

private:
    Scheduler& scheduler_;
    IpLayer* ip_;
    std::string name_ = "test";
};

/// Reads one counter by name (throws when there is none of that name).
inline std::uint64_t counter(const CounterSource& source, std::string_view name) {
    std::optional<std::uint64_t> found;
    source.visit_counters([&](std::string_view n, std::uint64_t v) {
        if (n == name && !found) found = v;
    });
    if (!found) throw std::out_of_range("no counter " + std::string(name));
    return *found;
}

}  // namespace netloom::testing
