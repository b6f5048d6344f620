// front_half_input.cpp — segment input: checks, demultiplexing, TIME-WAIT reuse by a new SYN,
// closed ports, listeners and SYN cookies; ICMP errors.
#include "netloom/tcp_common/front_half.hpp"
#include "netloom/tcp_common/segment_input.hpp"

namespace netloom::tcp {

void FrontHalf::ip_input(const IpMeta& meta, Packet&& packet) {
    count(Counter::segments_received);
    Segment segment;
    if (const auto drop =
            read_segment(meta, packet, ip_.checksum(), ip_.address().address, segment)) {
        count(counter_for(*drop));
        return;
    }
    const FourTuple tuple{meta.destination, segment.destination_port, meta.source,
                          segment.source_port};
    const auto it = table_.find(tuple);
    if (it == table_.end()) {
        input_no_connection(tuple, segment);
        return;
    }
    std::shared_ptr<ConnectionEntry> connection = it->second;  // alive if it retires meanwhile
    if (connection->in_time_wait && segment.syn() && !segment.ack &&
        listeners_.contains(tuple.local_port) && time_wait_accepts_syn(*connection, segment)) {
        // RFC 9293 3.10.7.4 / RFC 6191: a SYN provably newer than the old incarnation reopens
        // the 4-tuple; any other SYN is answered by the TIME-WAIT connection (challenge ACK).
        count(Counter::time_wait_reused);
        end_time_wait(std::move(connection));
        input_no_connection(tuple, segment);
        return;
    }
    deliver(std::move(connection), segment);
}

void FrontHalf::input_no_connection(const FourTuple& tuple, const Segment& segment) {
    const auto listener = listeners_.find(tuple.local_port);
    if (listener != listeners_.end()) {
        input_listener(*listener->second, tuple, segment);
        return;
    }
    // RFC 9293 3.10.7.1: CLOSED answers everything but a RST with a RST.
    count(Counter::rx_no_connection);
    if (!segment.rst()) transmit(tuple, rst_for_closed(segment));
}

void FrontHalf::input_listener(Listener& listener, const FourTuple& tuple, const Segment& segment) {
    const auto now = scheduler_.now();
    if (segment.rst()) return;  // RFC 9293 3.10.7.2 first check
    if (segment.ack) {
        // RFC 9293 3.10.7.2: any ACK (SYN-ACK included) is answered with RST, unless it
        // completes a cookie handshake. Cookies are checked only while recently sent, so
        // random ACKs get no chance (2^-28 each) to forge one otherwise.
        const bool cookies_recent = cookies_sent_at_ && now - *cookies_sent_at_ <= kCookieLife;
        if (options_.syn_cookies && cookies_recent && !segment.syn()) {
            if (const auto mss = cookies_.validate(tuple, segment.seq, *segment.ack, now)) {
                if (budget_.level() != MemoryLevel::normal) {
                    // The client believes it is connected and resends this ACK (or its
                    // data, which carries the cookie too): the connection opens then, if
                    // the pressure ended within the cookie's life (syn_cookie.hpp).
                    count(Counter::connections_refused_memory);
                    return;
                }
                if (listener.accept_queue.size() >= listener.backlog) {
                    count(Counter::listen_overflows);  // the peer retransmits (RFC 4987 3.6)
                    return;
                }
                if (table_.size() >= options_.max_connections) {
                    count(Counter::listen_drops);  // the table is full: likewise
                    return;
                }
                count(Counter::syn_cookies_accepted);
                open_from_cookie(listener, tuple, segment, *mss);
                return;
            }
            count(Counter::syn_cookies_rejected);
        }
        transmit(tuple, rst_for_closed(segment));
        return;
    }
    if (!segment.syn()) return;
    if (listener.accept_queue.size() >= listener.backlog) {
        count(Counter::listen_overflows);  // like Linux: no cookie either, the client retries
        return;
    }
    if (budget_.level() != MemoryLevel::normal) {
        // No state and no cookie either: a cookie's connection would be refused at its ACK.
        // The client retransmits its SYN (RFC 9293 3.8.1) and gets in once the pressure ends.
        count(Counter::connections_refused_memory);
        return;
    }
    if (options_.syn_cookies_always || listener.half_open >= listener.syn_backlog ||
        table_.size() >= options_.max_connections) {
        if (!options_.syn_cookies) {
            count(Counter::listen_drops);
            return;
        }
        const auto cookie =
            cookies_.encode(tuple, segment.seq, segment.options.mss.value_or(536), now);
        if (!cookie) {  // the peer's MSS is below every cookie's
            count(Counter::listen_drops);
            return;
        }
        count(Counter::syn_cookies_sent);
        cookies_sent_at_ = now;
        send_cookie_syn_ack(tuple, segment, cookie->isn);
        return;
    }
    open_passive(listener, tuple, segment);
}

void FrontHalf::ip_error(const IcmpErrorReport& report) {
    if (report.protocol != IpProtocol::tcp) return;
    const FourTuple tuple{report.source, report.source_port, report.destination,
                          report.destination_port};
    const auto it = table_.find(tuple);
    if (it == table_.end()) return;
    count(Counter::icmp_errors);
    deliver_icmp(it->second, report);
}

}  // namespace netloom::tcp
