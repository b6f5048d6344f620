// engine.cpp — tcp_classic: the front half's hooks (Pcbs opened, fed and queried) and the
// PcbHost every Pcb reports to.
#include "engine.hpp"

#include <algorithm>

#include "handles.hpp"
#include "netloom/tcp_common/segment_input.hpp"

namespace netloom::classic {

using namespace wire::tcp_flag;

Engine::Engine(EngineConfig config, IpLayer& ip, Scheduler& scheduler,
               std::shared_ptr<spdlog::logger> log)
    : FrontHalf("tcp_classic", config, config.secret_seed, ip, scheduler),
      config_(std::move(config)),
      log_(std::move(log)) {
    config_.mss = options().mss;  // clamped to the device
    config_.isn_key = secrets().isn_key;
    config_.ts_key = secrets().ts_key;
    set_connection_object_bytes(sizeof(Pcb));
}

Engine::~Engine() {
    // Handles may outlive the engine: their connections end here (CLOSED, `aborted`) and no
    // longer refer to it (PcbHost) in anything a handle can still call.
    for (const auto& [tuple, connection] : connections())
        static_cast<Pcb&>(*connection).engine_gone();
    drop_connections();
}

std::shared_ptr<Pcb> Engine::make_pcb(const tcp::FourTuple& tuple, tcp::Listener* listener) {
    auto pcb = std::make_shared<Pcb>(*this, tuple, scheduler_.now());
    adopt(pcb, tuple, listener);
    return pcb;
}

// --- The front half's hooks -----------------------------------------------------------------

void Engine::deliver(std::shared_ptr<tcp::ConnectionEntry> connection,
                     const tcp::Segment& segment) {
    // `connection` keeps the Pcb alive if it retires inside input().
    Pcb& pcb = static_cast<Pcb&>(*connection);
    pcb.input(segment);
    recharge(pcb, pcb.memory_footprint());
}

void Engine::open_passive(tcp::Listener& listener, const tcp::FourTuple& tuple,
                          const tcp::Segment& syn) {
    const auto pcb = make_pcb(tuple, &listener);
    pcb->open_passive(syn, &listener);
    recharge(*pcb, pcb->memory_footprint());
}

void Engine::send_cookie_syn_ack(const tcp::FourTuple& tuple, const tcp::Segment& syn_segment,
                                 SeqNum cookie) {
    wire::TcpRepr repr;
    repr.source_port = tuple.local_port;
    repr.destination_port = tuple.remote_port;
    repr.sequence_number = cookie.value();
    repr.acknowledgment_number = (syn_segment.seq + 1).value();
    repr.flags = syn | ack;
    repr.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(config_.rcvbuf, 0xffff));
    repr.options.mss = config_.mss;  // nothing else survives a cookie (syn_cookie.hpp)
    FrontHalf::transmit(tuple, repr);
}

void Engine::open_from_cookie(tcp::Listener& listener, const tcp::FourTuple& tuple,
                              const tcp::Segment& segment, std::uint16_t mss) {
    auto pcb = make_pcb(tuple, &listener);  // established() moves it to the accept queue
    pcb->open_from_cookie(segment, mss, &listener);
    if (!segment.payload.empty() || segment.fin()) pcb->input(segment);
    recharge(*pcb, pcb->memory_footprint());
}

std::unique_ptr<TcpConnection> Engine::open_active(
    const tcp::FourTuple& tuple, const TcpConnectOptions& options,
    const std::optional<tcp::TimeWaitRecord>& reused) {
    auto pcb = make_pcb(tuple, nullptr);
    if (reused) pcb->reuse_sequence_space(*reused);
    pcb->user_attached = true;
    if (options.nodelay) pcb->set_nodelay(true);
    auto handle = std::make_unique<Connection>(*this, pcb);
    pcb->open_active();
    return handle;
}

std::unique_ptr<TcpConnection> Engine::make_handle(
    std::shared_ptr<tcp::ConnectionEntry> connection) {
    return std::make_unique<Connection>(*this,
                                        std::static_pointer_cast<Pcb>(std::move(connection)));
}

void Engine::deliver_icmp(std::shared_ptr<tcp::ConnectionEntry> connection,
                          const IcmpErrorReport& report) {
    Pcb& pcb = static_cast<Pcb&>(*connection);
    pcb.icmp_error(report);
    recharge(pcb, pcb.memory_footprint());
}

bool Engine::time_wait_accepts_syn(const tcp::ConnectionEntry& connection,
                                   const tcp::Segment& syn) const {
    return static_cast<const Pcb&>(connection).syn_may_reopen(syn);
}

std::optional<tcp::TimeWaitRecord> Engine::time_wait_record(
    const tcp::ConnectionEntry& connection) const {
    return static_cast<const Pcb&>(connection).time_wait_record();
}

void Engine::end_time_wait(std::shared_ptr<tcp::ConnectionEntry> connection) {
    static_cast<Pcb&>(*connection).end_time_wait();  // CLOSED: retire() takes it out of the table
}

void Engine::abort(std::shared_ptr<tcp::ConnectionEntry> connection) {
    static_cast<Pcb&>(*connection).abort();
}

std::uint32_t Engine::ts_offset(const tcp::FourTuple& tuple) const {
    return Pcb::ts_offset_for(tuple, config_.ts_key);
}

tcp::ConnectionTotals Engine::totals(const tcp::ConnectionEntry& connection) const {
    const Pcb& pcb = static_cast<const Pcb&>(connection);
    return {pcb.retransmits, pcb.rto_count, pcb.fast_retransmits, pcb.sack_recoveries};
}

std::size_t Engine::footprint(const tcp::ConnectionEntry& connection) const {
    return static_cast<const Pcb&>(connection).memory_footprint();
}

void Engine::reopen_window(std::shared_ptr<tcp::ConnectionEntry> connection) {
    static_cast<Pcb&>(*connection).reopen_window();
}

// --- PcbHost ----------------------------------------------------------------------------------

void Engine::transmit(const tcp::FourTuple& tuple, Packet&& segment, bool is_rst) {
    FrontHalf::transmit(tuple, std::move(segment), is_rst);
}

void Engine::post_events(Pcb& pcb, std::uint32_t events) {
    if (event_flush().add(pcb, events)) event_flush().schedule(pcb.shared_from_this());
}

void Engine::established(Pcb& pcb) {
    on_established(pcb.shared_from_this());
}

bool Engine::accept_queue_full(const Pcb& pcb) {
    return FrontHalf::accept_queue_full(pcb);
}

bool Engine::admit_time_wait(Pcb& pcb) {
    return enter_time_wait(pcb);
}

void Engine::retire(Pcb& pcb) {
    FrontHalf::retire(pcb, pcb.tuple(), pcb.error());  // may free the Pcb
}

bool Engine::take_challenge_ack() {
    return FrontHalf::take_challenge_ack();
}

void Engine::note(tcp::Counter counter) {
    count(counter);
}

}  // namespace netloom::classic
