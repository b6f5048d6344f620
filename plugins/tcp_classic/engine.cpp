// engine.cpp — tcp_classic: segment demultiplexing, listeners and SYN cookies, output,
// posted event delivery, counters.
#include "engine.hpp"

#include <algorithm>

#include "handles.hpp"
#include "netloom/checksum.hpp"

namespace netloom::classic {

using namespace wire::tcp_flag;

Engine::Engine(EngineConfig config, IpLayer& ip, Scheduler& scheduler,
               std::shared_ptr<spdlog::logger> log)
    : config_(std::move(config)),
      ip_(ip),
      scheduler_(scheduler),
      log_(std::move(log)),
      // RFC 6528 3: secrets random per stack (fixed under a virtual clock), one key per use.
      secrets_(tcp::draw_engine_secrets(config_.secret_seed)),
      cookies_(secrets_.cookie_key),
      ports_(config_.ephemeral_first, config_.ephemeral_last, secrets_.port_key,
             secrets_.port_counter) {
    config_.isn_key = secrets_.isn_key;
    config_.ts_key = secrets_.ts_key;
    // Never advertise more than the device carries: MTU - IPv4 - TCP headers (RFC 9293 3.7.1).
    const std::uint32_t mtu_mss = ip_.mtu() > 40 ? ip_.mtu() - 40 : 64;
    config_.mss = static_cast<std::uint16_t>(std::min<std::uint32_t>(config_.mss, mtu_mss));
}

Engine::~Engine() {
    *alive_ = false;
    // Handles may outlive the engine: their connections end here (CLOSED, `aborted`) and no
    // longer refer to it (PcbHost) in anything a handle can still call.
    for (auto& [tuple, pcb] : table_) {
        pcb->engine_gone();
        pcb->in_table = false;
    }
    table_.clear();
    event_list_.clear();
    if (started_) ip_.register_transport(IpProtocol::tcp, nullptr);
}

void Engine::start() {
    ip_.register_transport(IpProtocol::tcp, this);
    started_ = true;
}

// --- Input ------------------------------------------------------------------------------------

void Engine::ip_input(const IpMeta& meta, Packet&& packet) {
    ++counters_.segments_received;
    auto view = wire::TcpView::parse(packet.bytes());
    if (!view) {
        ++counters_.rx_malformed;
        return;
    }
    if (!(packet.flags() & Packet::kChecksumVerified) &&
        !view->verify_checksum(ip_.checksum(), meta.source, meta.destination)) {
        ++counters_.rx_bad_checksum;
        return;
    }
    auto repr = wire::TcpRepr::parse(*view);
    if (!repr || repr->source_port == 0 || repr->destination_port == 0) {
        ++counters_.rx_malformed;
        return;
    }
    if (meta.destination != ip_.address().address) {
        // RFC 1122 4.2.3.10: segments to a broadcast or multicast address are discarded
        // silently; a connection only ever has our unicast address at its local end.
        ++counters_.rx_not_unicast;
        return;
    }
    if (repr->has(syn) && repr->has(fin)) {  // meaningless (RFC 9293 3.1): drop, never answer
        ++counters_.rx_syn_fin;
        return;
    }
    const Segment segment = tcp::segment_from(*repr, &packet);
    const tcp::FourTuple tuple{meta.destination, repr->destination_port, meta.source,
                               repr->source_port};
    auto it = table_.find(tuple);
    if (it == table_.end()) {
        input_no_connection(tuple, segment);
        return;
    }
    std::shared_ptr<Pcb> pcb = it->second;  // keeps it alive if it retires inside input()
    if (pcb->state() == TcpState::time_wait && segment.syn() && !segment.ack &&
        listeners_.contains(tuple.local_port) && pcb->syn_may_reopen(segment)) {
        // RFC 9293 3.10.7.4 / RFC 6191: a SYN that is provably newer than the old incarnation
        // reopens the 4-tuple; any other SYN is answered by the TIME-WAIT Pcb (challenge ACK).
        ++counters_.time_wait_reused;
        pcb->end_time_wait();
        input_no_connection(tuple, segment);
        return;
    }
    pcb->input(segment);
}

void Engine::input_no_connection(const tcp::FourTuple& tuple, const Segment& segment) {
    auto listener = listeners_.find(tuple.local_port);
    if (listener != listeners_.end()) {
        input_listener(*listener->second, tuple, segment);
        return;
    }
    ++counters_.rx_no_connection;
    send_rst_for(tuple, segment);
}

void Engine::send_rst_for(const tcp::FourTuple& tuple, const Segment& segment) {
    // RFC 9293 3.10.7.1: everything but a RST is answered with a RST.
    if (segment.rst()) return;
    wire::TcpRepr repr;
    repr.source_port = tuple.local_port;
    repr.destination_port = tuple.remote_port;
    if (segment.ack) {
        repr.sequence_number = segment.ack->value();
        repr.flags = rst;
    } else {
        repr.sequence_number = 0;
        repr.acknowledgment_number = (segment.seq + segment.seq_length()).value();
        repr.flags = rst | ack;
    }
    Packet packet = Packet::allocate(repr.buffer_len());
    auto bytes = packet.append(repr.buffer_len());
    if (repr.emit(bytes, tuple.local_address, tuple.remote_address, ip_.checksum()) == 0) return;
    transmit(tuple, std::move(packet), true);
}

void Engine::send_cookie_syn_ack(const tcp::FourTuple& tuple, const Segment& syn_segment,
                                 SeqNum cookie) {
    wire::TcpRepr repr;
    repr.source_port = tuple.local_port;
    repr.destination_port = tuple.remote_port;
    repr.sequence_number = cookie.value();
    repr.acknowledgment_number = (syn_segment.seq + 1).value();
    repr.flags = syn | ack;
    repr.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(config_.rcvbuf, 0xffff));
    repr.options.mss = config_.mss;  // nothing else survives a cookie (syn_cookie.hpp)
    Packet packet = Packet::allocate(repr.buffer_len());
    auto bytes = packet.append(repr.buffer_len());
    if (repr.emit(bytes, tuple.local_address, tuple.remote_address, ip_.checksum()) == 0) return;
    transmit(tuple, std::move(packet), false);
}

std::shared_ptr<Pcb> Engine::make_pcb(const tcp::FourTuple& tuple) {
    auto pcb = std::make_shared<Pcb>(*this, tuple, scheduler_.now());
    table_[tuple] = pcb;
    pcb->in_table = true;
    return pcb;
}

void Engine::input_listener(Listener& listener, const tcp::FourTuple& tuple,
                            const Segment& segment) {
    const Time now = scheduler_.now();
    if (segment.rst()) return;  // RFC 9293 3.10.7.2 first check
    if (segment.ack) {
        // The ACK that completes a cookie handshake, or garbage (answered with RST).
        if (config_.syn_cookies && !segment.syn()) {
            if (auto mss = cookies_.validate(tuple, segment.seq, *segment.ack, now)) {
                if (listener.accept_queue.size() >= listener.backlog) {
                    ++counters_.listen_overflows;
                    return;
                }
                if (table_.size() >= config_.max_connections) {
                    ++counters_.listen_drops;  // the table is full: the client retransmits
                    return;
                }
                ++counters_.syn_cookies_accepted;
                auto pcb = make_pcb(tuple);
                ++listener.half_open;  // established() moves it to the accept queue
                pcb->open_from_cookie(segment, *mss, &listener);
                if (!segment.payload.empty() || segment.fin()) pcb->input(segment);
                return;
            }
            ++counters_.syn_cookies_rejected;
        }
        send_rst_for(tuple, segment);
        return;
    }
    if (!segment.syn()) return;
    if (listener.accept_queue.size() >= listener.backlog) {
        ++counters_.listen_overflows;  // like Linux: the client retries its SYN
        return;
    }
    if (config_.syn_cookies_always || listener.half_open >= listener.syn_backlog ||
        table_.size() >= config_.max_connections) {
        if (!config_.syn_cookies) {
            ++counters_.listen_drops;
            return;
        }
        auto cookie = cookies_.encode(tuple, segment.seq, segment.options.mss.value_or(536), now);
        if (!cookie) {
            ++counters_.listen_drops;
            return;
        }
        ++counters_.syn_cookies_sent;
        send_cookie_syn_ack(tuple, segment, cookie->isn);
        return;
    }
    auto pcb = make_pcb(tuple);
    ++listener.half_open;
    pcb->open_passive(segment, &listener);
}

void Engine::ip_error(const IcmpErrorReport& report) {
    if (report.protocol != IpProtocol::tcp) return;
    const tcp::FourTuple tuple{report.source, report.source_port, report.destination,
                               report.destination_port};
    auto it = table_.find(tuple);
    if (it == table_.end()) return;
    ++counters_.icmp_errors;
    std::shared_ptr<Pcb> pcb = it->second;
    pcb->icmp_error(report);
}

// --- PcbHost ----------------------------------------------------------------------------------

void Engine::transmit(const tcp::FourTuple& tuple, Packet&& segment, bool is_rst) {
    if (is_rst) ++counters_.rst_sent;
    ++counters_.segments_sent;
    // RFC 1191: DF on every segment, so a smaller path MTU comes back as fragmentation-needed
    // (Pcb::lower_mss) instead of fragments.
    IpSendOptions options;
    options.dont_fragment = true;
    const IpSendStatus status =
        ip_.output(tuple.remote_address, IpProtocol::tcp, std::move(segment), options);
    if (status != IpSendStatus::sent && status != IpSendStatus::queued) ++counters_.tx_dropped;
}

void Engine::established(Pcb& pcb) {
    if (pcb.counted_open) return;
    pcb.counted_open = true;
    ++counters_.connections_opened;
    Listener* listener = pcb.listener;
    if (!listener || pcb.queued) return;
    auto it = table_.find(pcb.tuple());
    if (it == table_.end()) return;
    pcb.queued = true;
    if (listener->half_open > 0) --listener->half_open;
    listener->accept_queue.push_back(it->second);
    notify_acceptable(*listener);
}

bool Engine::accept_queue_full(const Pcb& pcb) {
    const Listener* listener = pcb.listener;
    if (!listener || pcb.queued || listener->accept_queue.size() < listener->backlog) return false;
    ++counters_.listen_overflows;
    return true;
}

bool Engine::admit_time_wait(Pcb& pcb) {
    if (pcb.counted_time_wait) return true;
    if (time_wait_current_ >= config_.max_time_wait) {
        ++counters_.time_wait_overflows;  // like Linux's TIME-WAIT bucket overflow
        return false;
    }
    ++time_wait_current_;
    pcb.counted_time_wait = true;
    return true;
}

void Engine::retire(Pcb& pcb) {
    if (std::exchange(pcb.counted_time_wait, false)) --time_wait_current_;
    if (pcb.error() == TcpError::reset) ++counters_.connections_reset;  // not timeouts, aborts
    counters_.retransmits += pcb.retransmits;
    counters_.rto_count += pcb.rto_count;
    counters_.fast_retransmits += pcb.fast_retransmits;
    counters_.sack_recoveries += pcb.sack_recoveries;
    if (Listener* listener = std::exchange(pcb.listener, nullptr)) {
        if (pcb.queued) {
            auto& queue = listener->accept_queue;
            queue.erase(std::remove_if(queue.begin(), queue.end(),
                                       [&](const auto& p) { return p.get() == &pcb; }),
                        queue.end());
            pcb.queued = false;
        } else if (listener->half_open > 0) {
            --listener->half_open;
        }
    }
    if (pcb.in_table) {
        pcb.in_table = false;
        auto it = table_.find(pcb.tuple());
        if (it != table_.end() && it->second.get() == &pcb) table_.erase(it);  // may free pcb
    }
}

bool Engine::take_challenge_ack() {
    return challenge_acks_.take(scheduler_.now());
}

void Engine::note(std::string_view counter) {
    ++notes_[counter];
}

// --- Events -----------------------------------------------------------------------------------

void Engine::post_events(Pcb& pcb, std::uint32_t events) {
    pcb.pending_events |= events;
    if (pcb.in_event_list || !pcb.user_attached) return;
    pcb.in_event_list = true;
    event_list_.push_back(pcb.shared_from_this());
    post_flush();
}

void Engine::notify_acceptable(Listener& listener) {
    if (listener.acceptable_pending) return;
    listener.acceptable_pending = true;
    acceptable_list_.push_back(&listener);
    post_flush();
}

void Engine::post_flush() {
    if (flush_posted_) return;
    flush_posted_ = true;
    scheduler_.post([this, alive = alive_] {
        if (*alive) flush_events();
    });
}

void Engine::flush_events() {
    flush_posted_ = false;
    std::vector<Listener*> listeners;
    listeners.swap(acceptable_list_);
    flushing_listeners_ = &listeners;
    for (Listener*& listener : listeners) {
        if (!listener) continue;  // closed by an earlier callback of this batch
        listener->acceptable_pending = false;
        if (listener->on_acceptable && !listener->accept_queue.empty()) {
            auto callback = listener->on_acceptable;  // it may close this or another listener
            callback();
        }
    }
    flushing_listeners_ = nullptr;
    std::vector<std::shared_ptr<Pcb>> pcbs;
    pcbs.swap(event_list_);
    for (auto& pcb : pcbs) {
        pcb->in_event_list = false;
        const std::uint32_t events = std::exchange(pcb->pending_events, 0);
        if (events && pcb->user_attached && pcb->on_event) {
            auto callback = pcb->on_event;  // it may destroy the handle
            callback(events);
        }
    }
}

}  // namespace netloom::classic
