// ICMPv4 (RFC 792): echo replies built in place, echo requests from this stack, errors
// received (handed to the flow's owner) and sent (RFC 1122 3.2.2 rules, rate-limited).
#include "ip_layer.hpp"
#include "udp_socket.hpp"

namespace netloom::ip {

using wire::IcmpType;
using wire::IcmpView;
using wire::Ipv4View;

namespace {
constexpr std::size_t kMaxEchoData = 0xffff - Ipv4View::kMinHeaderLength - IcmpView::kHeaderLength;

bool handed_over(IpSendStatus status) {
    return status == IpSendStatus::sent || status == IpSendStatus::queued;
}
}  // namespace

void Ipv4Layer::icmp_input(const RxContext& context, Packet&& message) {
    ++counters_.icmp_rx;
    const auto parsed = IcmpView::parse(message.bytes());
    if (!parsed) {
        ++counters_.icmp_drop_malformed;
        return;
    }
    const IcmpView& view = *parsed;
    if (!context.l4_verified && !view.verify_checksum(checksum_)) {
        ++counters_.icmp_drop_bad_checksum;
        return;
    }
    switch (view.type()) {
        case IcmpType::echo_request:
            ++counters_.icmp_rx_echo_requests;
            answer_echo(context, std::move(message));
            return;
        case IcmpType::echo_reply: {
            ++counters_.icmp_rx_echo_replies;
            const auto found = echo_listeners_.find(view.echo_identifier());
            if (found == echo_listeners_.end()) return;
            // A copy: the listener may unregister itself (replies are rare, unlike data).
            const auto listener = found->second;
            listener(EchoReply{context.meta.source, view.echo_identifier(), view.echo_sequence(),
                               view.payload()});
            return;
        }
        default: break;
    }
    if (wire::is_icmp_error(view.type())) {
        icmp_error_received(context, view);
    } else {
        ++counters_.icmp_rx_other;  // timestamp, information, router discovery...: ignored
    }
}

void Ipv4Layer::answer_echo(const RxContext& context, Packet&& request) {
    // RFC 1122 3.2.2.6: an echo request to a broadcast address may be silently discarded.
    if (context.ip_broadcast) {
        ++counters_.icmp_drop_broadcast_echo;
        return;
    }
    // The reply is the request with type 0: change that byte and patch the checksum
    // (RFC 1624 eqn. 3) instead of summing the data again; the buffer goes back out as is.
    std::uint8_t* at = request.data();
    const std::uint16_t old_word = wire::load_be16(at);
    at[0] = static_cast<std::uint8_t>(IcmpType::echo_reply);
    const std::uint16_t checksum =
        Checksum::update16(wire::load_be16(at + 2), old_word, wire::load_be16(at));
    wire::store_be16(at + 2, checksum);
    request.clear_flag(Packet::kReassembled);
    IpSendOptions send_options;
    send_options.dscp = context.meta.dscp;
    if (handed_over(
            output(context.meta.source, IpProtocol::icmp, std::move(request), send_options))) {
        ++counters_.icmp_tx_echo_replies;
    }
}

void Ipv4Layer::icmp_error_received(const RxContext& context, const IcmpView& message) {
    const auto quote = message.quoted();
    if (!quote) {
        ++counters_.icmp_drop_malformed;
        return;
    }
    // An error must be about a datagram we sent (RFC 5927 4.1 checks against blind attacks).
    if (quote->source != options_.address.address) {
        ++counters_.icmp_drop_foreign_error;
        return;
    }
    ++counters_.icmp_rx_errors;
    // Source quench must be ignored (RFC 6633); redirects change routes a host with one
    // gateway does not have: neither reaches a transport.
    const IcmpType type = message.type();
    if (type == IcmpType::source_quench || type == IcmpType::redirect) return;
    IcmpErrorReport report;
    report.type = static_cast<std::uint8_t>(type);
    report.code = message.code();
    report.reporter = context.meta.source;
    report.source = quote->source;
    report.destination = quote->destination;
    report.protocol = quote->protocol;
    report.source_port = quote->source_port();
    report.destination_port = quote->destination_port();
    report.quoted_word = wire::load_be32(quote->transport.data() + 4);
    if (type == IcmpType::destination_unreachable &&
        message.code() == static_cast<std::uint8_t>(wire::IcmpUnreachable::fragmentation_needed)) {
        report.next_hop_mtu = message.next_hop_mtu();
    }
    deliver_error(report);
}

void Ipv4Layer::deliver_error(const IcmpErrorReport& report) {
    switch (report.protocol) {
        case IpProtocol::udp: {
            const auto found = udp_ports_.find(report.source_port);
            if (found != udp_ports_.end()) found->second->record_error(report);
            return;
        }
        case IpProtocol::icmp: return;  // about our echo requests: the pinger times out
        default: break;
    }
    if (Transport* transport = transports_[static_cast<std::uint8_t>(report.protocol)]) {
        transport->ip_error(report);
    }
}

bool Ipv4Layer::icmp_error_allowed(std::span<const std::uint8_t> offending,
                                   bool link_broadcast) const {
    // RFC 1122 3.2.2: no error about a datagram sent as a link-layer broadcast, to an IP
    // broadcast or multicast address, from a source that is not one host, about a non-first
    // fragment, or about an ICMP error message.
    if (link_broadcast) return false;
    const auto view = Ipv4View::parse(offending);
    if (!view) return false;
    if (view->fragment_offset() != 0) return false;
    if (view->destination() != options_.address.address) return false;
    if (!is_unicast_host(view->source())) return false;
    if (view->protocol() == IpProtocol::icmp) {
        const auto payload = view->payload();
        if (payload.empty() || wire::is_icmp_error(IcmpType{payload[0]})) return false;
    }
    return true;
}

void Ipv4Layer::send_icmp_error(std::span<const std::uint8_t> offending, bool link_broadcast,
                                const wire::IcmpRepr& message, std::uint64_t& sent_counter) {
    if (!icmp_error_allowed(offending, link_broadcast)) return;
    if (!icmp_bucket_.take(scheduler_.now())) {
        ++counters_.icmp_rate_limited;
        return;
    }
    const std::size_t length = message.buffer_len();
    Packet packet = Packet::allocate(length);
    if (message.emit(packet.append(length), checksum_) == 0) return;
    const Ipv4Address to = Ipv4Address::from_bytes(offending.data() + 12);
    if (handed_over(output(to, IpProtocol::icmp, std::move(packet)))) ++sent_counter;
}

IpSendStatus Ipv4Layer::send_echo_request(Ipv4Address destination, std::uint16_t identifier,
                                          std::uint16_t sequence,
                                          std::span<const std::uint8_t> data) {
    if (data.size() > kMaxEchoData) {
        ++counters_.ipv4_tx_too_big;
        return IpSendStatus::too_big;
    }
    const auto message = wire::IcmpRepr::echo_request(identifier, sequence, data);
    Packet packet = Packet::allocate(message.buffer_len());
    if (message.emit(packet.append(message.buffer_len()), checksum_) == 0) {
        return IpSendStatus::dropped;
    }
    const IpSendStatus status = output(destination, IpProtocol::icmp, std::move(packet));
    if (handed_over(status)) ++counters_.icmp_tx_echo_requests;
    return status;
}

void Ipv4Layer::on_echo_reply(std::uint16_t identifier,
                              std::function<void(const EchoReply&)> on_reply) {
    if (on_reply) {
        echo_listeners_[identifier] = std::move(on_reply);
    } else {
        echo_listeners_.erase(identifier);
    }
}

}  // namespace netloom::ip
