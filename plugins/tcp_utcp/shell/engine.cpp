// engine.cpp — the tcp_utcp shell: segment input and demultiplexing, output, timers, events.
#include "shell/engine.hpp"

#include <algorithm>

#include "core/syn_cookie_open.hpp"
#include "netloom/checksum.hpp"
#include "shell/connection.hpp"

namespace netloom::utcp {

using namespace wire::tcp_flag;

namespace {

bool synchronized_or_later(TcpState state) {
    return state != TcpState::closed && state != TcpState::listen && state != TcpState::syn_sent &&
           state != TcpState::syn_received;
}

}  // namespace

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
    config_.core.isn_key = secrets_.isn_key;
    config_.core.ts_key = secrets_.ts_key;
    config_.core.ts_offset_per_connection = true;  // RFC 7323 5.4
    // Never advertise more than the device can carry: MTU - IPv4 - TCP headers (RFC 9293 3.7.1).
    const std::uint32_t mtu_mss = ip_.mtu() > 40 ? ip_.mtu() - 40 : 64;
    config_.mss = static_cast<std::uint16_t>(std::min<std::uint32_t>(config_.mss, mtu_mss));
    config_.core.mss = config_.mss;
    shared_config_ = std::make_shared<const Config>(config_.core);
}

Engine::~Engine() {
    *alive_ = false;
    for (auto& [tuple, socket] : table_) {
        if (socket->timer) scheduler_.cancel_timer(socket->timer);
        socket->timer = 0;
        socket->in_table = false;
    }
    table_.clear();
    if (started_) ip_.register_transport(IpProtocol::tcp, nullptr);
}

void Engine::start() {
    ip_.register_transport(IpProtocol::tcp, this);
    started_ = true;
}

void Engine::count_notes(std::uint32_t notes) {
    if (notes & kNoteUnacceptable) ++counters_.rx_unacceptable;
    if (notes & kNoteAckUnsent) ++counters_.rx_ack_unsent;
    if (notes & kNoteRstIgnored) ++counters_.rx_rst_ignored;
    if (notes & kNotePaws) ++counters_.rx_paws;
    if (notes & kNoteNoTimestamp) ++counters_.rx_no_timestamp;
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
        // RFC 1122 4.2.3.10: a segment to a broadcast or multicast address is discarded
        // silently; TCP connections exist only on our unicast address.
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
    std::shared_ptr<Socket> socket = it->second;
    if (socket->tcb.state == TcpState::time_wait && segment.syn() && !segment.ack &&
        listeners_.contains(tuple.local_port) && time_wait_accepts_syn(socket->tcb, segment)) {
        // RFC 9293 3.10.7.4 / RFC 6191: a new incarnation may reuse a TIME-WAIT 4-tuple.
        ++counters_.time_wait_reused;
        retire(socket);
        input_no_connection(tuple, segment);
        return;
    }
    if (socket->listener && !socket->queued && socket->tcb.state == TcpState::syn_received &&
        socket->listener->accept_queue.size() >= socket->listener->backlog) {
        // The ACK completing this handshake would overfill the accept queue: drop it, the peer
        // retransmits (Linux does the same), and our SYN-ACK timer keeps the half-open state.
        ++counters_.listen_overflows;
        return;
    }
    const Time now = scheduler_.now();
    run_core(socket, [&](Tcb& tcb, Outputs& out) { deliver_segment(tcb, segment, now, out); });
}

void Engine::input_no_connection(const tcp::FourTuple& tuple, const Segment& segment) {
    auto listener = listeners_.find(tuple.local_port);
    if (listener != listeners_.end()) {
        input_listener(*listener->second, tuple, segment);
        return;
    }
    // RFC 9293 3.10.7.1: CLOSED answers everything but a RST with a RST.
    ++counters_.rx_no_connection;
    if (auto reply = rst_for_closed(segment)) {
        emit(*reply, tuple);
    }
}

void Engine::input_listener(ListenerState& listener, const tcp::FourTuple& tuple,
                            const Segment& segment) {
    const Time now = scheduler_.now();
    if (segment.rst()) return;  // RFC 9293 3.10.7.2 first check
    if (segment.ack) {
        // RFC 9293 3.10.7.2: any ACK (SYN-ACK included) is answered with RST, unless it
        // completes a cookie handshake. Cookies are checked only while recently sent, so
        // random ACKs get no chance (2^-28 each) to forge one otherwise.
        const bool cookies_recent = cookies_sent_at_ && now - *cookies_sent_at_ <= kCookieLife;
        if (config_.syn_cookies && cookies_recent && !segment.syn()) {
            if (auto mss = cookies_.validate(tuple, segment.seq, *segment.ack, now)) {
                if (listener.accept_queue.size() >= listener.backlog ||
                    table_.size() >= config_.max_connections) {
                    ++counters_.listen_overflows;  // the peer will retransmit (RFC 4987 3.6)
                    return;
                }
                ++counters_.syn_cookies_accepted;
                auto socket = std::make_shared<Socket>(
                    open_from_cookie(listener.core, tuple, segment, *mss, now));
                socket->listener = &listener;
                ++listener.half_open;  // becomes queued in apply()
                insert(socket);
                run_core(socket,
                         [&](Tcb& tcb, Outputs& out) { deliver_segment(tcb, segment, now, out); });
                return;
            }
            ++counters_.syn_cookies_rejected;
        }
        if (auto reply = rst_for_closed(segment)) emit(*reply, tuple);
        return;
    }
    if (!segment.syn()) return;
    if (listener.accept_queue.size() >= listener.backlog) {
        ++counters_.listen_overflows;  // like Linux: no cookie either, the client retries
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
        cookies_sent_at_ = now;
        emit(syn_cookie_reply(listener.core, tuple, segment, cookie->isn, now), tuple);
        return;
    }
    Outputs out;
    auto tcb = deliver_in_1(listener.core, tuple, segment, now, out);
    if (!tcb) {
        for (const OutgoingSegment& reply : out.segments) emit(reply, tuple);
        return;
    }
    auto socket = std::make_shared<Socket>(std::move(*tcb));
    socket->listener = &listener;
    ++listener.half_open;
    insert(socket);
    apply(socket, out);
}

void Engine::ip_error(const IcmpErrorReport& report) {
    if (report.protocol != IpProtocol::tcp) return;
    const tcp::FourTuple tuple{report.source, report.source_port, report.destination,
                               report.destination_port};
    auto it = table_.find(tuple);
    if (it == table_.end()) return;
    ++counters_.icmp_errors;
    const Time now = scheduler_.now();
    run_core(it->second, [&](Tcb& tcb, Outputs& out) {
        deliver_icmp(tcb, report.type, report.code, SeqNum(report.quoted_word), report.next_hop_mtu,
                     now, out);
    });
}

// --- Applying the core's outputs ----------------------------------------------------------------

void Engine::apply(const std::shared_ptr<Socket>& socket, Outputs& out) {
    if (out.notes) count_notes(out.notes);
    for (const OutgoingSegment& segment : out.segments) {
        if (segment.options.timestamps) socket->last_tsval = segment.options.timestamps->value;
        emit(segment, socket->tcb.tuple, &socket->tcb);
    }
    Tcb& tcb = socket->tcb;
    if (socket->listener && !socket->queued && synchronized_or_later(tcb.state)) {
        on_established(socket);
    } else if (!socket->listener && !socket->counted_open && synchronized_or_later(tcb.state)) {
        socket->counted_open = true;
        ++counters_.connections_opened;
    }
    if (out.events) queue_events(socket, out.events);
    if (tcb.state == TcpState::time_wait && !socket->in_time_wait) {
        socket->in_time_wait = true;
        socket->time_wait_since = scheduler_.now();
        if (++time_wait_count_ > config_.max_time_wait) {
            // Like Linux's time-wait bucket overflow: past the cap a connection skips
            // TIME-WAIT instead of letting its 4-tuples pile up (memory stays bounded).
            ++counters_.time_wait_overflows;
            tcb.state = TcpState::closed;
        }
    }
    if (tcb.state == TcpState::closed) {
        retire(socket);
    } else {
        arm_timer(socket);
    }
}

void Engine::emit(const OutgoingSegment& segment, const tcp::FourTuple& tuple, const Tcb* tcb) {
    if (segment.challenge_ack) {
        if (!challenge_acks_.take(scheduler_.now())) return;
        ++counters_.challenge_acks;
    }
    Packet packet = packet_for(segment, tuple, tcb, ip_.checksum());
    if (!packet) {
        ++counters_.tx_dropped;
        return;
    }
    if (segment.has(rst)) ++counters_.rst_sent;
    ++counters_.segments_sent;
    // RFC 1191 3: DF on every segment, so a smaller path MTU comes back as fragmentation-needed
    // (deliver_icmp lowers the MSS) instead of as fragments that PMTU discovery never sees.
    IpSendOptions options;
    options.dont_fragment = true;
    const IpSendStatus status =
        ip_.output(tuple.remote_address, IpProtocol::tcp, std::move(packet), options);
    if (status != IpSendStatus::sent && status != IpSendStatus::queued) ++counters_.tx_dropped;
}

void Engine::arm_timer(const std::shared_ptr<Socket>& socket) {
    const std::optional<Time> deadline = next_deadline(socket->tcb);
    if (!deadline) {
        if (socket->timer) scheduler_.cancel_timer(socket->timer);
        socket->timer = 0;
        return;
    }
    // Lazy re-arming: a timer that fires early just re-arms, so the common case (the deadline
    // moving later on every ACK) costs nothing.
    if (socket->timer && socket->timer_deadline <= *deadline) return;
    if (socket->timer) scheduler_.cancel_timer(socket->timer);
    socket->timer_deadline = *deadline;
    Socket* raw = socket.get();
    socket->timer = scheduler_.add_timer(*deadline, [this, raw] { on_timer(raw); });
}

void Engine::on_timer(Socket* raw) {
    raw->timer = 0;
    auto it = table_.find(raw->tcb.tuple);
    if (it == table_.end() || it->second.get() != raw) return;
    std::shared_ptr<Socket> socket = it->second;
    const Time now = scheduler_.now();
    run_core(socket, [&](Tcb& tcb, Outputs& out) { on_tick(tcb, now, out); });
}

void Engine::on_established(const std::shared_ptr<Socket>& socket) {
    ListenerState& listener = *socket->listener;
    socket->queued = true;
    socket->counted_open = true;
    ++counters_.connections_opened;
    if (listener.half_open > 0) --listener.half_open;
    listener.accept_queue.push_back(socket);
    notify_acceptable(listener);
}

void Engine::notify_acceptable(ListenerState& listener) {
    if (!listener.acceptable_pending) {
        listener.acceptable_pending = true;
        acceptable_list_.push_back(&listener);
        post_flush();
    }
}

void Engine::queue_events(const std::shared_ptr<Socket>& socket, std::uint32_t events) {
    socket->pending_events |= events;
    if (socket->in_flush_list) return;
    socket->in_flush_list = true;
    flush_list_.push_back(socket);
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
    std::vector<ListenerState*> listeners;
    listeners.swap(acceptable_list_);
    // A callback may close another listener (or its own): close_listener nulls it here first.
    flushing_listeners_ = &listeners;
    for (ListenerState* listener : listeners) {
        if (!listener) continue;
        listener->acceptable_pending = false;
        if (listener->on_acceptable && !listener->accept_queue.empty()) {
            auto callback = listener->on_acceptable;  // it may close the listener
            callback();
        }
    }
    flushing_listeners_ = nullptr;
    std::vector<std::shared_ptr<Socket>> sockets;
    sockets.swap(flush_list_);
    for (auto& socket : sockets) {
        socket->in_flush_list = false;
        const std::uint32_t events = std::exchange(socket->pending_events, 0);
        if (events && socket->user_attached && socket->on_event) {
            auto callback = socket->on_event;  // it may destroy the handle
            callback(events);
        }
    }
}

void Engine::insert(const std::shared_ptr<Socket>& socket) {
    table_[socket->tcb.tuple] = socket;
    socket->in_table = true;
}

void Engine::retire(const std::shared_ptr<Socket>& socket) {
    if (socket->timer) scheduler_.cancel_timer(socket->timer);
    socket->timer = 0;
    if (socket->retired) return;
    socket->retired = true;
    if (socket->in_time_wait) --time_wait_count_;
    Tcb& tcb = socket->tcb;
    if (tcb.error != TcpError::none) ++counters_.connections_reset;
    counters_.retransmits += tcb.retransmits;
    counters_.rto_count += tcb.rto_count;
    counters_.fast_retransmits += tcb.fast_retransmits;
    counters_.sack_recoveries += tcb.sack_recoveries;
    if (socket->in_table) {
        auto it = table_.find(tcb.tuple);
        if (it != table_.end() && it->second == socket) table_.erase(it);
        socket->in_table = false;
    }
    if (ListenerState* listener = std::exchange(socket->listener, nullptr)) {
        if (socket->queued) {
            auto& queue = listener->accept_queue;
            queue.erase(std::remove(queue.begin(), queue.end(), socket), queue.end());
            socket->queued = false;
        } else if (listener->half_open > 0) {
            --listener->half_open;
        }
    }
    if (tcb.state != TcpState::closed) tcb.state = TcpState::closed;
}

// --- User entry points ------------------------------------------------------------------------

std::unique_ptr<TcpListener> Engine::listen(std::uint16_t port, std::uint32_t backlog) {
    if (port == 0) throw std::invalid_argument("tcp_utcp: cannot listen on port 0");
    if (listeners_.contains(port))
        throw std::runtime_error("tcp_utcp: port " + std::to_string(port) +
                                 " is already listening");
    auto state = std::make_unique<ListenerState>();
    state->core.config = config_.core;
    state->core.shared = shared_config_;
    state->core.port = port;
    state->backlog = backlog ? backlog : config_.backlog;
    state->syn_backlog = config_.syn_backlog;
    listeners_[port] = state.get();
    return std::make_unique<ListenerHandle>(*this, std::move(state));
}

void Engine::close_listener(ListenerState& listener) {
    listeners_.erase(listener.core.port);
    acceptable_list_.erase(std::remove(acceptable_list_.begin(), acceptable_list_.end(), &listener),
                           acceptable_list_.end());
    if (flushing_listeners_)
        std::replace(flushing_listeners_->begin(), flushing_listeners_->end(), &listener,
                     static_cast<ListenerState*>(nullptr));
    // Connections nobody accepted are reset (RFC 9293 3.10.4: CLOSE of a LISTEN; Linux does
    // the same for its accept queue), half-open ones included.
    std::vector<std::shared_ptr<Socket>> orphans;
    for (auto& [tuple, socket] : table_)
        if (socket->listener == &listener) orphans.push_back(socket);
    const Time now = scheduler_.now();
    for (auto& socket : orphans) {
        run_core(socket, [&](Tcb& tcb, Outputs& out) { abort_1(tcb, now, out); });
        if (!socket->retired) retire(socket);  // abort_1 leaves CLOSED, so apply retired it
    }
}

std::shared_ptr<Socket> Engine::accept_from(ListenerState& listener) {
    if (listener.accept_queue.empty()) return nullptr;
    std::shared_ptr<Socket> socket = std::move(listener.accept_queue.front());
    listener.accept_queue.pop_front();
    socket->listener = nullptr;
    socket->queued = false;
    socket->user_attached = true;
    return socket;
}

std::unique_ptr<TcpConnection> Engine::connect(const TcpEndpoint& remote,
                                               const TcpConnectOptions& options) {
    tcp::FourTuple tuple{ip_.address().address, options.local_port, remote.address, remote.port};
    if (remote.port == 0) throw std::invalid_argument("tcp_utcp: cannot connect to port 0");
    std::optional<tcp::TimeWaitRecord> reused;
    if (tuple.local_port == 0) {
        if (table_.size() >= config_.max_connections)  // a reused TIME-WAIT would free one
            throw std::runtime_error("tcp_utcp: max_connections reached");
        tuple.local_port = ephemeral_port(tuple, reused);
    } else {
        if (table_.contains(tuple)) throw std::runtime_error("tcp_utcp: 4-tuple already in use");
        if (table_.size() >= config_.max_connections)
            throw std::runtime_error("tcp_utcp: max_connections reached");
    }
    Outputs out;
    const Time now = scheduler_.now();
    auto socket = std::make_shared<Socket>(
        connect_1(shared_config_, tuple, now, out, reused ? &*reused : nullptr));
    socket->user_attached = true;
    insert(socket);
    if (options.nodelay) set_nodelay_1(socket->tcb, true);  // else the config default
    apply(socket, out);
    return std::make_unique<Connection>(*this, socket);
}

tcp::PortCandidate Engine::probe_port(const tcp::FourTuple& tuple) const {
    using Kind = tcp::PortCandidate::Kind;
    if (listeners_.contains(tuple.local_port)) return {Kind::busy};
    const auto it = table_.find(tuple);
    if (it == table_.end()) return {Kind::free};
    const Socket& old = *it->second;
    if (old.tcb.state != TcpState::time_wait || !old.tcb.timers.time_wait) return {Kind::busy};
    tcp::PortCandidate candidate{Kind::time_wait};
    candidate.time_wait = {old.tcb.ts_ok, old.last_tsval, old.tcb.snd_nxt, old.time_wait_since,
                           *old.tcb.timers.time_wait};
    const Time now = scheduler_.now();
    candidate.new_tsval = static_cast<std::uint32_t>(now / std::chrono::milliseconds(1)) +
                          ts_offset_for(*shared_config_, tuple);
    return candidate;
}

std::uint16_t Engine::ephemeral_port(tcp::FourTuple tuple,
                                     std::optional<tcp::TimeWaitRecord>& reused) {
    const Time now = scheduler_.now();
    const tcp::EphemeralPorts::Choice choice = ports_.choose_or_throw(
        "tcp_utcp", tuple, now, config_.time_wait_reuse_delay,
        [this](const tcp::FourTuple& t) { return probe_port(t); }, counters_.ephemeral_exhausted);
    tuple.local_port = choice.port;
    if (choice.reused) {
        ++counters_.time_wait_reused_active;
        reused = choice.reused;
        const std::shared_ptr<Socket> old = table_.at(tuple);  // retire() erases the table's copy
        retire(old);
    }
    return tuple.local_port;
}

// --- Accounting -----------------------------------------------------------------------------

std::size_t Engine::memory_in_use() const noexcept {
    // A hash node holds the key, the shared_ptr and a next pointer (+ cached hash); the socket
    // and its control block come from one make_shared allocation.
    constexpr std::size_t kNode = sizeof(tcp::FourTuple) + sizeof(std::shared_ptr<Socket>) + 16;
    constexpr std::size_t kControlBlock = 16;
    std::size_t total = table_.bucket_count() * sizeof(void*);
    for (const auto& [tuple, socket] : table_)
        total +=
            kNode + kControlBlock + sizeof(Socket) - sizeof(Tcb) + memory_footprint(socket->tcb);
    return total;
}

void Engine::visit_counters(const CounterVisitor& visit) const {
    const EngineCounters& c = counters_;
    std::uint64_t retransmits = c.retransmits, rto = c.rto_count, fast = c.fast_retransmits,
                  sack = c.sack_recoveries;
    for (const auto& [tuple, socket] : table_) {
        retransmits += socket->tcb.retransmits;
        rto += socket->tcb.rto_count;
        fast += socket->tcb.fast_retransmits;
        sack += socket->tcb.sack_recoveries;
    }
    visit("segments_received", c.segments_received);
    visit("segments_sent", c.segments_sent);
    visit("rx_bad_checksum", c.rx_bad_checksum);
    visit("rx_malformed", c.rx_malformed);
    visit("rx_syn_fin", c.rx_syn_fin);
    visit("rx_no_connection", c.rx_no_connection);
    visit("rst_sent", c.rst_sent);
    visit("tx_dropped", c.tx_dropped);
    visit("syn_cookies_sent", c.syn_cookies_sent);
    visit("syn_cookies_accepted", c.syn_cookies_accepted);
    visit("syn_cookies_rejected", c.syn_cookies_rejected);
    visit("listen_overflows", c.listen_overflows);
    visit("listen_drops", c.listen_drops);
    visit("connections_opened", c.connections_opened);
    visit("connections_reset", c.connections_reset);
    visit("time_wait_reused", c.time_wait_reused);
    visit("time_wait_reused_active", c.time_wait_reused_active);
    visit("ephemeral_exhausted", c.ephemeral_exhausted);
    visit("icmp_errors", c.icmp_errors);
    visit("rx_not_unicast", c.rx_not_unicast);
    visit("time_wait_overflows", c.time_wait_overflows);
    visit("rx_unacceptable", c.rx_unacceptable);
    visit("rx_ack_unsent", c.rx_ack_unsent);
    visit("challenge_acks", c.challenge_acks);
    visit("rx_rst_ignored", c.rx_rst_ignored);
    visit("rx_paws", c.rx_paws);
    visit("rx_no_timestamp", c.rx_no_timestamp);
    visit("retransmits", retransmits);
    visit("rto_count", rto);
    visit("fast_retransmits", fast);
    visit("sack_recoveries", sack);
    visit("connections_current", table_.size());
    visit("time_wait_current", time_wait_count_);
    visit("memory_bytes_current", memory_in_use());
}

}  // namespace netloom::utcp
