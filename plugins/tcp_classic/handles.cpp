// handles.cpp — user handles and the engine's user entry points (listen, connect, accept,
// ephemeral ports), accounting and counters.
#include "handles.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>

namespace netloom::classic {

Connection::Connection(Engine& engine, std::shared_ptr<Pcb> pcb)
    : engine_(engine), engine_alive_(engine.alive_flag()), pcb_(std::move(pcb)) {
    pcb_->user_attached = true;
}

Connection::~Connection() {
    pcb_->user_attached = false;
    pcb_->on_event = nullptr;
    if (!closed_by_user_) pcb_->close();
}

TcpEndpoint Connection::local() const noexcept {
    return {pcb_->tuple().local_address, pcb_->tuple().local_port};
}

TcpEndpoint Connection::remote() const noexcept {
    return {pcb_->tuple().remote_address, pcb_->tuple().remote_port};
}

void Connection::close() {
    closed_by_user_ = true;
    pcb_->close();
}

void Connection::abort() {
    closed_by_user_ = true;
    pcb_->abort();
}

void Connection::on_event(std::function<void(std::uint32_t events)> callback) {
    pcb_->on_event = std::move(callback);
    if (!pcb_->on_event || !*engine_alive_) return;
    // Report the current readiness once, so a callback set late misses nothing.
    std::uint32_t events = 0;
    if (pcb_->error() != TcpError::none) events |= kTcpError;
    if (pcb_->readable_bytes() > 0 || pcb_->eof()) events |= kTcpReadable;
    if (pcb_->send_space() > 0 && pcb_->state() != TcpState::syn_sent &&
        pcb_->state() != TcpState::syn_received)
        events |= kTcpWritable;
    if (pcb_->state() == TcpState::closed && pcb_->error() == TcpError::none) events |= kTcpClosed;
    if (events) engine_.post_events(*pcb_, events);
}

ListenerHandle::ListenerHandle(Engine& engine, std::unique_ptr<Listener> listener)
    : engine_(engine), engine_alive_(engine.alive_flag()), listener_(std::move(listener)) {}

ListenerHandle::~ListenerHandle() {
    if (*engine_alive_) engine_.close_listener(*listener_);
}

std::unique_ptr<TcpConnection> ListenerHandle::accept() {
    if (!*engine_alive_) return nullptr;
    auto pcb = engine_.accept_from(*listener_);
    if (!pcb) return nullptr;
    return std::make_unique<Connection>(engine_, std::move(pcb));
}

void ListenerHandle::on_acceptable(std::function<void()> callback) {
    listener_->on_acceptable = std::move(callback);
    if (*engine_alive_ && listener_->on_acceptable && !listener_->accept_queue.empty())
        engine_.notify_acceptable(*listener_);
}

// --- Engine user entry points -------------------------------------------------------------------

std::unique_ptr<TcpListener> Engine::listen(std::uint16_t port, std::uint32_t backlog) {
    if (port == 0) throw std::invalid_argument("tcp_classic: cannot listen on port 0");
    if (listeners_.contains(port))
        throw std::runtime_error("tcp_classic: port " + std::to_string(port) +
                                 " is already listening");
    auto listener = std::make_unique<Listener>();
    listener->port = port;
    listener->backlog = backlog ? backlog : config_.backlog;
    listener->syn_backlog = config_.syn_backlog;
    listeners_[port] = listener.get();
    return std::make_unique<ListenerHandle>(*this, std::move(listener));
}

void Engine::close_listener(Listener& listener) {
    listeners_.erase(listener.port);
    std::erase(acceptable_list_, &listener);
    if (flushing_listeners_)
        std::replace(flushing_listeners_->begin(), flushing_listeners_->end(), &listener,
                     static_cast<Listener*>(nullptr));
    // Connections nobody accepted are reset (RFC 9293 3.10.4 CLOSE in LISTEN; Linux too).
    std::vector<std::shared_ptr<Pcb>> orphans;
    for (auto& [tuple, pcb] : table_)
        if (pcb->listener == &listener) orphans.push_back(pcb);
    for (auto& pcb : orphans) pcb->abort();
    for (auto& pcb : orphans) pcb->listener = nullptr;
}

std::shared_ptr<Pcb> Engine::accept_from(Listener& listener) {
    if (listener.accept_queue.empty()) return nullptr;
    std::shared_ptr<Pcb> pcb = std::move(listener.accept_queue.front());
    listener.accept_queue.pop_front();
    pcb->listener = nullptr;
    pcb->queued = false;
    pcb->user_attached = true;
    return pcb;
}

std::unique_ptr<TcpConnection> Engine::connect(const TcpEndpoint& remote,
                                               const TcpConnectOptions& options) {
    if (remote.port == 0) throw std::invalid_argument("tcp_classic: cannot connect to port 0");
    tcp::FourTuple tuple{ip_.address().address, options.local_port, remote.address, remote.port};
    std::optional<tcp::TimeWaitRecord> reused;
    if (tuple.local_port == 0) {
        if (table_.size() >= config_.max_connections)  // a reused TIME-WAIT would free one
            throw std::runtime_error("tcp_classic: max_connections reached");
        tuple.local_port = ephemeral_port(tuple, reused);
    } else {
        if (table_.contains(tuple)) throw std::runtime_error("tcp_classic: 4-tuple already in use");
        if (table_.size() >= config_.max_connections)
            throw std::runtime_error("tcp_classic: max_connections reached");
    }
    auto pcb = make_pcb(tuple);
    if (reused) pcb->reuse_sequence_space(*reused);
    pcb->user_attached = true;
    if (options.nodelay) pcb->set_nodelay(true);
    auto handle = std::make_unique<Connection>(*this, pcb);
    pcb->open_active();
    return handle;
}

tcp::PortCandidate Engine::probe_port(const tcp::FourTuple& tuple) const {
    using Kind = tcp::PortCandidate::Kind;
    if (listeners_.contains(tuple.local_port)) return {Kind::busy};
    const auto it = table_.find(tuple);
    if (it == table_.end()) return {Kind::free};
    const std::optional<tcp::TimeWaitRecord> record = it->second->time_wait_record();
    if (!record) return {Kind::busy};
    tcp::PortCandidate candidate{Kind::time_wait, *record};
    // The TSval a new incarnation would send now (pcb_output.cpp's clock, same offset).
    candidate.new_tsval =
        static_cast<std::uint32_t>(scheduler_.now() / std::chrono::milliseconds(1)) +
        Pcb::ts_offset_for(tuple, config_.ts_key);
    return candidate;
}

std::uint16_t Engine::ephemeral_port(tcp::FourTuple tuple,
                                     std::optional<tcp::TimeWaitRecord>& reused) {
    const Time now = scheduler_.now();
    const tcp::EphemeralPorts::Choice choice = ports_.choose_or_throw(
        "tcp_classic", tuple, now, config_.time_wait_reuse_delay,
        [this](const tcp::FourTuple& t) { return probe_port(t); }, counters_.ephemeral_exhausted);
    tuple.local_port = choice.port;
    if (choice.reused) {
        ++counters_.time_wait_reused_active;
        reused = choice.reused;
        // CLOSED: retire() takes it out of the table (a copy keeps it alive until it returns).
        const std::shared_ptr<Pcb> old = table_.at(tuple);
        old->end_time_wait();
    }
    return tuple.local_port;
}

std::size_t Engine::memory_in_use() const noexcept {
    // A hash node (key, shared_ptr, next pointer, cached hash) plus the make_shared block.
    constexpr std::size_t kNode = sizeof(tcp::FourTuple) + sizeof(std::shared_ptr<Pcb>) + 16;
    constexpr std::size_t kControlBlock = 16;
    std::size_t total = table_.bucket_count() * sizeof(void*);
    for (const auto& [tuple, pcb] : table_)
        total += kNode + kControlBlock + pcb->memory_footprint();
    return total;
}

void Engine::visit_counters(const CounterVisitor& visit) const {
    const Counters& c = counters_;
    std::uint64_t retransmits = c.retransmits, rto = c.rto_count, fast = c.fast_retransmits,
                  sack = c.sack_recoveries;
    for (const auto& [tuple, pcb] : table_) {
        retransmits += pcb->retransmits;
        rto += pcb->rto_count;
        fast += pcb->fast_retransmits;
        sack += pcb->sack_recoveries;
    }
    auto note = [&](std::string_view name) {
        auto it = notes_.find(name);
        return it == notes_.end() ? std::uint64_t{0} : it->second;
    };
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
    visit("time_wait_current", time_wait_current_);
    visit("rx_unacceptable", note("rx_unacceptable"));
    visit("rx_ack_unsent", note("rx_ack_unsent"));
    visit("challenge_acks", note("challenge_acks"));
    visit("rx_rst_ignored", note("rx_rst_ignored"));
    visit("rx_paws", note("rx_paws"));
    visit("rx_no_timestamp", note("rx_no_timestamp"));
    visit("retransmits", retransmits);
    visit("rto_count", rto);
    visit("fast_retransmits", fast);
    visit("sack_recoveries", sack);
    visit("connections_current", table_.size());
    visit("memory_bytes_current", memory_in_use());
}

}  // namespace netloom::classic
