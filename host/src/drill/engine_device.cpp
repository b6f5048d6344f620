// The drill's NetDevice: outbound frames become queued datagrams, ARP is answered with a fixed
// MAC, injected datagrams are wrapped in Ethernet.
#include "engine_device.hpp"

#include "netloom/scheduler.hpp"
#include "netloom/wire/arp.hpp"
#include "netloom/wire/ethernet.hpp"
#include "netloom/wire/ipv4.hpp"

namespace netloom::drill {

EngineDevice::EngineDevice(std::uint32_t mtu, std::function<std::int64_t()> clock_us)
    : mtu_(mtu), clock_us_(std::move(clock_us)) {}

void EngineDevice::attach(Scheduler& scheduler, std::function<void()> rx_ready) {
    scheduler_ = &scheduler;
    rx_ready_ = std::move(rx_ready);
}

bool EngineDevice::transmit(Packet&& frame) {
    auto ethernet = wire::EthernetView::parse(frame.bytes());
    if (!ethernet) {
        ++tx_other_;
        return true;
    }
    if (ethernet->ethertype() == wire::EtherType::arp) {
        answer_arp(ethernet->payload());
        return true;
    }
    if (ethernet->ethertype() != wire::EtherType::ipv4) {
        ++tx_other_;
        return true;
    }
    std::span<const std::uint8_t> datagram = ethernet->payload();
    if (auto ip = wire::Ipv4View::parse(datagram)) datagram = ip->bytes();  // drop link padding
    if (queue_.size() >= kMaxQueued) {
        ++tx_dropped_;
        return false;
    }
    queue_.push_back({clock_us_(), {datagram.begin(), datagram.end()}});
    ++tx_datagrams_;
    if (on_datagram_) on_datagram_();
    return true;
}

void EngineDevice::answer_arp(std::span<const std::uint8_t> bytes) {
    auto view = wire::ArpView::parse(bytes);
    if (!view) return;
    auto request = wire::ArpRepr::parse(*view);
    // A gratuitous announcement (sender == target) asks nothing; answering it would claim the
    // stack's own address.
    if (!request || request->operation != wire::ArpOperation::request ||
        request->sender_ip == request->target_ip)
        return;
    wire::ArpRepr reply;
    reply.operation = wire::ArpOperation::reply;
    reply.sender_mac = kPeerMac;
    reply.sender_ip = request->target_ip;
    reply.target_mac = request->sender_mac;
    reply.target_ip = request->sender_ip;
    wire::EthernetRepr header{request->sender_mac, kPeerMac, wire::EtherType::arp};
    Packet frame = Packet::allocate(header.header_len() + reply.buffer_len());
    auto out = frame.append(header.header_len() + reply.buffer_len());
    header.emit(out);
    reply.emit(out.subspan(header.header_len()));
    rx_.push_back(std::move(frame));
    ++arp_replies_;
    // transmit() runs inside the IP layer's output path: deliver on a later turn, not re-entrantly.
    if (!rx_posted_ && scheduler_) {
        rx_posted_ = true;
        scheduler_->post([this] {
            rx_posted_ = false;
            if (rx_ready_) rx_ready_();
        });
    }
}

void EngineDevice::inject(std::span<const std::uint8_t> datagram) {
    wire::EthernetRepr header{kStackMac, kPeerMac, wire::EtherType::ipv4};
    Packet frame = Packet::allocate(header.header_len() + datagram.size());
    auto out = frame.append(header.header_len() + datagram.size());
    header.emit(out);
    std::copy(datagram.begin(), datagram.end(), out.begin() + header.header_len());
    rx_.push_back(std::move(frame));
    ++rx_datagrams_;
    if (rx_ready_) rx_ready_();
}

std::size_t EngineDevice::poll(std::size_t max, const FrameSink& sink) {
    std::size_t n = 0;
    while (n < max && !rx_.empty()) {
        Packet frame = std::move(rx_.front());
        rx_.pop_front();
        sink(std::move(frame));
        ++n;
    }
    return n;
}

std::optional<CapturedPacket> EngineDevice::pop() {
    if (queue_.empty()) return std::nullopt;
    CapturedPacket packet = std::move(queue_.front());
    queue_.pop_front();
    return packet;
}

void EngineDevice::visit_counters(const CounterVisitor& visit) const {
    visit("tx_datagrams", tx_datagrams_);
    visit("tx_dropped", tx_dropped_);
    visit("tx_other", tx_other_);
    visit("arp_replies", arp_replies_);
    visit("rx_datagrams", rx_datagrams_);
}

}  // namespace netloom::drill
