// udp_socket.hpp — UdpSocketImpl: one bound UDP port of an Ipv4Layer (RFC 768).
//
// Contract: created by Ipv4Layer::udp_bind, which registers it under its port; destroying it
// unbinds the port. Received datagrams wait in a ring of `capacity` entries allocated once at
// bind time (no allocation per datagram); `enqueue` refuses when it is full (the layer counts the
// drop). `send_to` copies the application's bytes once, into a Packet with headroom for the
// UDP, IPv4 and Ethernet headers. The readable callback runs after each queued datagram or
// recorded error; it may replace or clear itself and may destroy the socket.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "netloom/ip.hpp"

namespace netloom::ip {

class Ipv4Layer;

class UdpSocketImpl final : public UdpSocket {
public:
    UdpSocketImpl(Ipv4Layer& layer, std::uint16_t port, std::size_t capacity);
    ~UdpSocketImpl() override;
    UdpSocketImpl(const UdpSocketImpl&) = delete;
    UdpSocketImpl& operator=(const UdpSocketImpl&) = delete;

    std::uint16_t local_port() const noexcept override { return port_; }
    IpSendStatus send_to(const UdpEndpoint& to, std::span<const std::uint8_t> data) override;
    std::optional<UdpDatagram> receive() override;
    void on_readable(std::function<void()> callback) override;
    std::optional<IcmpErrorReport> take_error() override;

    // For the layer.
    bool full() const noexcept { return count_ == ring_.size(); }
    std::size_t queued() const noexcept { return count_; }
    /// Queues a datagram (false, unchanged, when full) and runs the readable callback.
    bool enqueue(UdpDatagram&& datagram);
    void record_error(const IcmpErrorReport& report);
    /// The layer is being destroyed: later sends fail, the destructor unbinds nothing.
    void detach() noexcept { layer_ = nullptr; }

private:
    void notify();

    Ipv4Layer* layer_;
    std::uint16_t port_;
    std::vector<UdpDatagram> ring_;
    std::size_t head_ = 0;
    std::size_t count_ = 0;
    std::optional<IcmpErrorReport> error_;
    std::function<void()> on_readable_;
    bool callback_replaced_ = false;  ///< on_readable() called while the callback ran
    bool* destroyed_ = nullptr;       ///< set while the callback runs
};

}  // namespace netloom::ip
