// UDP (RFC 768): sockets with bounded receive rings, and the layer's UDP input, bind and send.
#include "udp_socket.hpp"

#include <stdexcept>
#include <string>

#include "ip_layer.hpp"
#include "netloom/wire/udp.hpp"

namespace netloom::ip {

namespace {
// IANA dynamic/private range (RFC 6335 6), where ephemeral ports come from.
constexpr std::uint16_t kEphemeralFirst = 49152;
constexpr std::uint16_t kEphemeralLast = 65535;
constexpr std::size_t kMaxUdpPayload = 0xffff - 20 - wire::UdpView::kHeaderLength;
}  // namespace

UdpSocketImpl::UdpSocketImpl(Ipv4Layer& layer, std::uint16_t port, std::size_t capacity)
    : layer_(&layer), port_(port), ring_(capacity) {}

UdpSocketImpl::~UdpSocketImpl() {
    if (destroyed_) *destroyed_ = true;
    if (layer_) layer_->udp_unbind(port_);
}

IpSendStatus UdpSocketImpl::send_to(const UdpEndpoint& to, std::span<const std::uint8_t> data) {
    if (!layer_) return IpSendStatus::dropped;
    return layer_->udp_send(port_, to, data);
}

std::optional<UdpDatagram> UdpSocketImpl::receive() {
    if (count_ == 0) return std::nullopt;
    std::optional<UdpDatagram> out(std::move(ring_[head_]));
    if (++head_ == ring_.size()) head_ = 0;
    --count_;
    return out;
}

void UdpSocketImpl::on_readable(std::function<void()> callback) {
    on_readable_ = std::move(callback);
    callback_replaced_ = true;
}

std::optional<IcmpErrorReport> UdpSocketImpl::take_error() {
    std::optional<IcmpErrorReport> out = error_;
    error_.reset();
    return out;
}

bool UdpSocketImpl::enqueue(UdpDatagram&& datagram) {
    if (full()) return false;
    std::size_t tail = head_ + count_;
    if (tail >= ring_.size()) tail -= ring_.size();
    ring_[tail] = std::move(datagram);
    ++count_;
    notify();
    return true;
}

void UdpSocketImpl::record_error(const IcmpErrorReport& report) {
    error_ = report;
    notify();
}

void UdpSocketImpl::notify() {
    // Not re-entered: a callback that causes more arrivals finds them when it drains the ring.
    if (!on_readable_ || destroyed_) return;
    bool destroyed = false;
    destroyed_ = &destroyed;
    callback_replaced_ = false;
    // The callback runs from a local copy, so it may replace itself or destroy the socket.
    std::function<void()> callback = std::move(on_readable_);
    on_readable_ = nullptr;
    struct Restore {
        UdpSocketImpl* self;
        bool& destroyed;
        std::function<void()>& callback;
        ~Restore() {
            if (destroyed) return;
            self->destroyed_ = nullptr;
            if (!self->callback_replaced_) self->on_readable_ = std::move(callback);
        }
    } restore{this, destroyed, callback};
    callback();
}

std::unique_ptr<UdpSocket> Ipv4Layer::udp_bind(std::uint16_t port) {
    if (port == 0) {
        port = pick_ephemeral_port();
    } else if (udp_ports_.count(port) != 0) {
        throw std::runtime_error("UDP port " + std::to_string(port) + " is already bound");
    }
    auto socket = std::make_unique<UdpSocketImpl>(*this, port, options_.udp_queue);
    udp_ports_.emplace(port, socket.get());
    return socket;
}

std::uint16_t Ipv4Layer::pick_ephemeral_port() {
    constexpr unsigned kRange = kEphemeralLast - kEphemeralFirst + 1;
    for (unsigned tried = 0; tried < kRange; ++tried) {
        const std::uint16_t port = next_ephemeral_;
        next_ephemeral_ = port == kEphemeralLast ? kEphemeralFirst : port + 1;
        if (udp_ports_.count(port) == 0) return port;
    }
    throw std::runtime_error("no free ephemeral UDP port (49152..65535 all bound)");
}

void Ipv4Layer::udp_unbind(std::uint16_t port) noexcept {
    udp_ports_.erase(port);
}

IpSendStatus Ipv4Layer::udp_send(std::uint16_t source_port, const UdpEndpoint& to,
                                 std::span<const std::uint8_t> data) {
    if (data.size() > kMaxUdpPayload) {
        ++counters_.ipv4_tx_too_big;
        return IpSendStatus::too_big;
    }
    const wire::UdpRepr repr{source_port, to.port, data};
    Packet packet = Packet::allocate(repr.buffer_len());
    // The one copy of the application's bytes, with the checksum (RFC 768) over them.
    if (repr.emit(packet.append(repr.buffer_len()), options_.address.address, to.address,
                  checksum_) == 0) {
        return IpSendStatus::dropped;
    }
    const IpSendStatus status = output(to.address, IpProtocol::udp, std::move(packet));
    if (status == IpSendStatus::sent || status == IpSendStatus::queued) ++counters_.udp_tx;
    return status;
}

void Ipv4Layer::udp_input(const RxContext& context, Packet&& datagram) {
    ++counters_.udp_rx_datagrams;
    const auto parsed = wire::UdpView::parse(datagram.bytes());
    if (!parsed) {
        ++counters_.udp_drop_malformed;
        return;
    }
    const wire::UdpView& view = *parsed;
    // A zero checksum field means the sender computed none (RFC 768): accepted.
    if (!context.l4_verified &&
        !view.verify_checksum(checksum_, context.meta.source, context.meta.destination)) {
        ++counters_.udp_drop_bad_checksum;
        return;
    }
    const auto found = udp_ports_.find(view.destination_port());
    if (found == udp_ports_.end()) {
        ++counters_.udp_drop_no_port;
        // RFC 1122 4.1.3.1: port unreachable (suppressed for broadcasts, rate-limited).
        send_icmp_error(
            context.datagram, context.link_broadcast,
            wire::IcmpRepr::destination_unreachable(wire::IcmpUnreachable::port, context.datagram),
            counters_.icmp_tx_unreachable);
        return;
    }
    UdpSocketImpl& socket = *found->second;
    if (socket.full()) {
        ++counters_.udp_drop_queue_full;
        return;
    }
    UdpDatagram item;
    item.from = UdpEndpoint{context.meta.source, view.source_port()};
    item.to = context.meta.destination;
    const std::size_t length = view.length();
    datagram.trim(length);
    datagram.pull(wire::UdpView::kHeaderLength);
    item.payload = std::move(datagram);
    ++counters_.udp_rx;
    socket.enqueue(std::move(item));
}

}  // namespace netloom::ip
