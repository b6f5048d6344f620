// engine.cpp — the tcp_utcp shell: the front half's hooks (the core's rules for one
// connection), output, timers.
#include "shell/engine.hpp"

#include <algorithm>

#include "core/syn_cookie_open.hpp"
#include "netloom/tcp_common/segment_input.hpp"
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
    : FrontHalf("tcp_utcp", config, config.secret_seed, ip, scheduler),
      config_(std::move(config)),
      log_(std::move(log)) {
    config_.mss = options().mss;  // clamped to the device
    config_.core.mss = config_.mss;
    config_.core.isn_key = secrets().isn_key;
    config_.core.ts_key = secrets().ts_key;
    config_.core.ts_offset_per_connection = true;  // RFC 7323 5.4
    shared_config_ = std::make_shared<const Config>(config_.core);
    listen_rules_.config = config_.core;
    listen_rules_.shared = shared_config_;
    set_connection_object_bytes(sizeof(Socket));
}

Engine::~Engine() {
    for (const auto& [tuple, connection] : connections()) {
        Socket& socket = static_cast<Socket&>(*connection);
        if (socket.timer) scheduler_.cancel_timer(socket.timer);
        socket.timer = 0;
    }
    drop_connections();
}

void Engine::count_notes(std::uint32_t notes) {
    if (notes & kNoteUnacceptable) count(tcp::Counter::rx_unacceptable);
    if (notes & kNoteAckUnsent) count(tcp::Counter::rx_ack_unsent);
    if (notes & kNoteRstIgnored) count(tcp::Counter::rx_rst_ignored);
    if (notes & kNotePaws) count(tcp::Counter::rx_paws);
    if (notes & kNoteNoTimestamp) count(tcp::Counter::rx_no_timestamp);
    if (notes & kNoteOooDroppedMemory) count(tcp::Counter::ooo_dropped_memory);
    if (notes & kNoteRxDroppedMemory) count(tcp::Counter::rx_dropped_memory);
}

// --- The front half's hooks -----------------------------------------------------------------

void Engine::deliver(std::shared_ptr<tcp::ConnectionEntry> connection,
                     const tcp::Segment& segment) {
    const auto socket = std::static_pointer_cast<Socket>(std::move(connection));
    // The core cannot ask whether its listener has room: the ACK completing a handshake that
    // would overfill the accept queue is dropped here.
    if (socket->tcb.state == TcpState::syn_received && accept_queue_full(*socket)) return;
    run_deliver(socket, segment, scheduler_.now());
}

void Engine::run_deliver(const std::shared_ptr<Socket>& socket, const tcp::Segment& segment,
                         Time now) {
    run_core(socket, [&](Tcb& tcb, Outputs& out) {
        // The hard limit counts this packet's buffer, which storing the text would pin.
        tcb.memory_level =
            memory_level(segment.packet ? segment.packet->buffer_bytes() : segment.payload.size());
        if (deliver_segment(tcb, segment, now, out)) return;
        // The core counted bytes its receive buffer does not hold: the stream has a hole that
        // no retransmission fills. Acknowledge nothing, reset the connection.
        count(tcp::Counter::rx_store_failed);
        out.segments.clear();
        abort_1(tcb, now, out);
    });
}

void Engine::open_passive(tcp::Listener& listener, const tcp::FourTuple& tuple,
                          const tcp::Segment& syn) {
    Outputs out;
    auto tcb = deliver_in_1(listen_rules_, tuple, syn, scheduler_.now(), out);
    if (!tcb) {
        for (const OutgoingSegment& reply : out.segments) emit(reply, tuple);
        return;
    }
    auto socket = std::make_shared<Socket>(std::move(*tcb));
    adopt(socket, tuple, &listener);
    apply(socket, out);
}

void Engine::send_cookie_syn_ack(const tcp::FourTuple& tuple, const tcp::Segment& syn,
                                 SeqNum cookie) {
    emit(syn_cookie_reply(listen_rules_, tuple, syn, cookie, scheduler_.now()), tuple);
}

void Engine::open_from_cookie(tcp::Listener& listener, const tcp::FourTuple& tuple,
                              const tcp::Segment& ack, std::uint16_t mss) {
    const Time now = scheduler_.now();
    auto socket =
        std::make_shared<Socket>(utcp::open_from_cookie(listen_rules_, tuple, ack, mss, now));
    adopt(socket, tuple, &listener);  // established in apply(), queued then
    run_deliver(socket, ack, now);
}

std::unique_ptr<TcpConnection> Engine::open_active(
    const tcp::FourTuple& tuple, const TcpConnectOptions& options,
    const std::optional<tcp::TimeWaitRecord>& reused) {
    Outputs out;
    auto socket = std::make_shared<Socket>(
        connect_1(shared_config_, tuple, scheduler_.now(), out, reused ? &*reused : nullptr));
    socket->user_attached = true;
    adopt(socket, tuple, nullptr);
    if (options.nodelay) set_nodelay_1(socket->tcb, true);  // else the config default
    apply(socket, out);
    return std::make_unique<Connection>(*this, socket);
}

std::unique_ptr<TcpConnection> Engine::make_handle(
    std::shared_ptr<tcp::ConnectionEntry> connection) {
    return std::make_unique<Connection>(*this,
                                        std::static_pointer_cast<Socket>(std::move(connection)));
}

void Engine::deliver_icmp(std::shared_ptr<tcp::ConnectionEntry> connection,
                          const IcmpErrorReport& report) {
    const Time now = scheduler_.now();
    run_core(std::static_pointer_cast<Socket>(std::move(connection)), [&](Tcb& tcb, Outputs& out) {
        utcp::deliver_icmp(tcb, report.type, report.code, SeqNum(report.quoted_word),
                           report.next_hop_mtu, now, out);
    });
}

bool Engine::time_wait_accepts_syn(const tcp::ConnectionEntry& connection,
                                   const tcp::Segment& syn) const {
    return utcp::time_wait_accepts_syn(static_cast<const Socket&>(connection).tcb, syn);
}

std::optional<tcp::TimeWaitRecord> Engine::time_wait_record(
    const tcp::ConnectionEntry& connection) const {
    const Socket& old = static_cast<const Socket&>(connection);
    if (old.tcb.state != TcpState::time_wait || !old.tcb.timers.time_wait) return std::nullopt;
    return tcp::TimeWaitRecord{old.tcb.ts_ok, old.last_tsval, old.tcb.snd_nxt, old.time_wait_since,
                               *old.tcb.timers.time_wait};
}

void Engine::end_time_wait(std::shared_ptr<tcp::ConnectionEntry> connection) {
    close_socket(std::static_pointer_cast<Socket>(std::move(connection)));
}

void Engine::abort(std::shared_ptr<tcp::ConnectionEntry> connection) {
    const auto socket = std::static_pointer_cast<Socket>(std::move(connection));
    const Time now = scheduler_.now();
    run_core(socket, [&](Tcb& tcb, Outputs& out) { abort_1(tcb, now, out); });
    if (!socket->retired) close_socket(socket);  // abort_1 leaves CLOSED, so apply retired it
}

std::uint32_t Engine::ts_offset(const tcp::FourTuple& tuple) const {
    return ts_offset_for(*shared_config_, tuple);
}

tcp::ConnectionTotals Engine::totals(const tcp::ConnectionEntry& connection) const {
    const Tcb& tcb = static_cast<const Socket&>(connection).tcb;
    return {tcb.retransmits, tcb.rto_count, tcb.fast_retransmits, tcb.sack_recoveries};
}

std::size_t Engine::footprint(const tcp::ConnectionEntry& connection) const {
    return sizeof(Socket) - sizeof(Tcb) +
           memory_footprint(static_cast<const Socket&>(connection).tcb);
}

void Engine::reopen_window(std::shared_ptr<tcp::ConnectionEntry> connection) {
    const Time now = scheduler_.now();
    run_core(std::static_pointer_cast<Socket>(std::move(connection)),
             [&](Tcb& tcb, Outputs& out) { window_update_1(tcb, now, out); });
}

// --- Applying the core's outputs ----------------------------------------------------------------

void Engine::apply(const std::shared_ptr<Socket>& socket, Outputs& out) {
    if (out.notes) count_notes(out.notes);
    for (const OutgoingSegment& segment : out.segments) {
        if (segment.options.timestamps) socket->last_tsval = segment.options.timestamps->value;
        emit(segment, socket->tcb.tuple, &socket->tcb);
    }
    Tcb& tcb = socket->tcb;
    if (!socket->counted_open && synchronized_or_later(tcb.state)) on_established(socket);
    if (out.events) queue_events(socket, out.events);
    if (tcb.state == TcpState::time_wait && !socket->in_time_wait) {
        socket->time_wait_since = scheduler_.now();
        // Past max_time_wait a connection skips TIME-WAIT instead of letting its 4-tuples
        // pile up (memory stays bounded).
        if (!enter_time_wait(*socket)) tcb.state = TcpState::closed;
    }
    if (tcb.window_held) {
        tcb.window_held = false;
        hold_window(socket);
    }
    if (tcb.state == TcpState::closed) {
        close_socket(socket);
    } else {
        arm_timer(socket);
        recharge(*socket, sizeof(Socket) - sizeof(Tcb) + memory_footprint(tcb));
    }
}

void Engine::emit(const OutgoingSegment& segment, const tcp::FourTuple& tuple, const Tcb* tcb) {
    // RFC 5961 7: the core marks its challenge ACKs; past the engine-wide budget they are not
    // sent.
    if (segment.challenge_ack && !take_challenge_ack()) return;
    Packet packet = packet_for(segment, tuple, tcb, ip_.checksum());  // segment_io.hpp
    if (!packet) {
        count(tcp::Counter::tx_dropped);
        return;
    }
    transmit(tuple, std::move(packet), segment.has(rst));
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
    const auto* entry = find(raw->tcb.tuple);
    if (!entry || entry->get() != raw) return;
    const auto socket = std::static_pointer_cast<Socket>(*entry);
    const Time now = scheduler_.now();
    run_core(socket, [&](Tcb& tcb, Outputs& out) { on_tick(tcb, now, out); });
}

void Engine::close_socket(const std::shared_ptr<Socket>& socket) {
    if (socket->timer) scheduler_.cancel_timer(socket->timer);
    socket->timer = 0;
    Tcb& tcb = socket->tcb;
    retire(*socket, tcb.tuple, tcb.error);
    tcb.state = TcpState::closed;
}

}  // namespace netloom::utcp
