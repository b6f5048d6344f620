// front_half.cpp — the engine-independent half of a TCP engine: construction, listeners,
// connect() and ephemeral ports, connection bookkeeping, output, counters and accounting.
#include "netloom/tcp_common/front_half.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "netloom/tcp_common/listener_handle.hpp"

namespace netloom::tcp {

namespace {

EngineOptions clamped(EngineOptions options, const IpLayer& ip) {
    // Never advertise more than the device can carry: MTU - IPv4 - TCP headers (RFC 9293
    // 3.7.1).
    const std::uint32_t mtu_mss = ip.mtu() > 40 ? ip.mtu() - 40 : 64;
    options.mss = static_cast<std::uint16_t>(std::min<std::uint32_t>(options.mss, mtu_mss));
    return options;
}

/// The table's hash seed: a keyed hash of a constant, so it reveals nothing of the key.
std::uint64_t table_seed(const EngineSecrets& secrets) {
    return std::uint64_t{connection_hash(FourTuple{}, secrets.isn_key)} << 32 |
           connection_hash(FourTuple{}, secrets.cookie_key);
}

}  // namespace

FrontHalf::FrontHalf(std::string_view engine_name, const EngineOptions& options,
                     std::optional<std::uint64_t> secret_seed, IpLayer& ip, Scheduler& scheduler)
    : ip_(ip),
      scheduler_(scheduler),
      name_(engine_name),
      options_(clamped(options, ip)),
      // RFC 6528 3: secrets random per stack (fixed under a virtual clock), one key per use.
      secrets_(draw_engine_secrets(secret_seed)),
      cookies_(secrets_.cookie_key),
      ports_(options_.ephemeral_first, options_.ephemeral_last, secrets_.port_key,
             secrets_.port_counter),
      challenge_acks_(options_.challenge_ack_limit),
      table_(0, FourTupleHash{table_seed(secrets_)}),
      time_wait_(options_.max_time_wait),
      flush_(scheduler) {}

FrontHalf::~FrontHalf() {
    *alive_ = false;
    drop_connections();
    if (started_) ip_.register_transport(IpProtocol::tcp, nullptr);
}

void FrontHalf::start() {
    ip_.register_transport(IpProtocol::tcp, this);
    started_ = true;
}

void FrontHalf::drop_connections() noexcept {
    flush_.clear();
    for (auto& [tuple, connection] : table_) connection->in_table = false;
    table_.clear();
}

// --- Listeners ------------------------------------------------------------------------------

std::unique_ptr<TcpListener> FrontHalf::listen(std::uint16_t port, std::uint32_t backlog) {
    if (port == 0) throw std::invalid_argument(name_ + ": cannot listen on port 0");
    if (listeners_.contains(port))
        throw std::runtime_error(name_ + ": port " + std::to_string(port) +
                                 " is already listening");
    auto listener = std::make_unique<Listener>();
    listener->port = port;
    listener->backlog = backlog ? backlog : options_.backlog;
    listener->syn_backlog = options_.syn_backlog;
    listeners_[port] = listener.get();
    return std::make_unique<ListenerHandle>(*this, std::move(listener));
}

void FrontHalf::close_listener(Listener& listener) {
    listeners_.erase(listener.port);
    flush_.forget(listener);
    // Connections nobody accepted are reset (RFC 9293 3.10.4: CLOSE of a LISTEN; Linux does
    // the same for its accept queue), half-open ones included.
    std::vector<std::shared_ptr<ConnectionEntry>> orphans;
    for (auto& [tuple, connection] : table_)
        if (connection->listener == &listener) orphans.push_back(connection);
    for (auto& connection : orphans) abort(connection);
    for (auto& connection : orphans) connection->listener = nullptr;
}

std::unique_ptr<TcpConnection> FrontHalf::accept_from(Listener& listener) {
    if (listener.accept_queue.empty()) return nullptr;
    std::shared_ptr<ConnectionEntry> connection = std::move(listener.accept_queue.front());
    listener.accept_queue.pop_front();
    connection->listener = nullptr;
    connection->queued = false;
    connection->user_attached = true;
    return make_handle(std::move(connection));
}

// --- connect() --------------------------------------------------------------------------------

std::unique_ptr<TcpConnection> FrontHalf::connect(const TcpEndpoint& remote,
                                                  const TcpConnectOptions& options) {
    if (remote.port == 0) throw std::invalid_argument(name_ + ": cannot connect to port 0");
    FourTuple tuple{ip_.address().address, options.local_port, remote.address, remote.port};
    std::optional<TimeWaitRecord> reused;
    if (tuple.local_port == 0) {
        if (table_.size() >= options_.max_connections)  // a reused TIME-WAIT would free one
            throw std::runtime_error(name_ + ": max_connections reached");
        tuple.local_port = ephemeral_port(tuple, reused);
    } else {
        if (table_.contains(tuple)) throw std::runtime_error(name_ + ": 4-tuple already in use");
        if (table_.size() >= options_.max_connections)
            throw std::runtime_error(name_ + ": max_connections reached");
    }
    return open_active(tuple, options, reused);
}

PortCandidate FrontHalf::probe_port(const FourTuple& tuple) const {
    using Kind = PortCandidate::Kind;
    if (listeners_.contains(tuple.local_port)) return {Kind::busy};
    const auto it = table_.find(tuple);
    if (it == table_.end()) return {Kind::free};
    const std::optional<TimeWaitRecord> record = time_wait_record(*it->second);
    if (!record) return {Kind::busy};
    PortCandidate candidate{Kind::time_wait, *record};
    // The TSval a new incarnation would send now: the engines' millisecond TS clock plus the
    // 4-tuple's offset.
    candidate.new_tsval =
        static_cast<std::uint32_t>(scheduler_.now() / std::chrono::milliseconds(1)) +
        ts_offset(tuple);
    return candidate;
}

std::uint16_t FrontHalf::ephemeral_port(FourTuple tuple, std::optional<TimeWaitRecord>& reused) {
    const auto now = scheduler_.now();
    const EphemeralPorts::Choice choice = ports_.choose_or_throw(
        name_, tuple, now, options_.time_wait_reuse_delay,
        [this](const FourTuple& t) { return probe_port(t); },
        counters_[Counter::ephemeral_exhausted]);
    tuple.local_port = choice.port;
    if (choice.reused) {
        count(Counter::time_wait_reused_active);
        reused = choice.reused;
        end_time_wait(table_.at(tuple));  // a copy: retiring erases the table's
    }
    return tuple.local_port;
}

// --- Connection bookkeeping -------------------------------------------------------------------

void FrontHalf::adopt(const std::shared_ptr<ConnectionEntry>& connection, const FourTuple& tuple,
                      Listener* listener) {
    table_[tuple] = connection;
    connection->in_table = true;
    if (listener) {
        connection->listener = listener;
        ++listener->half_open;  // on_established() moves it to the accept queue
    }
}

const std::shared_ptr<ConnectionEntry>* FrontHalf::find(const FourTuple& tuple) const {
    const auto it = table_.find(tuple);
    return it == table_.end() ? nullptr : &it->second;
}

void FrontHalf::on_established(const std::shared_ptr<ConnectionEntry>& connection) {
    if (connection->counted_open) return;
    connection->counted_open = true;
    count(Counter::connections_opened);
    Listener* listener = connection->listener;
    if (!listener || connection->queued) return;
    connection->queued = true;
    if (listener->half_open > 0) --listener->half_open;
    listener->accept_queue.push_back(connection);
    flush_.notify_acceptable(*listener);
}

bool FrontHalf::accept_queue_full(const ConnectionEntry& connection) {
    const Listener* listener = connection.listener;
    if (!listener || connection.queued || listener->accept_queue.size() < listener->backlog)
        return false;
    count(Counter::listen_overflows);
    return true;
}

bool FrontHalf::enter_time_wait(ConnectionEntry& connection) {
    if (time_wait_.admit(connection)) return true;
    count(Counter::time_wait_overflows);  // like Linux's TIME-WAIT bucket overflow
    return false;
}

void FrontHalf::retire(ConnectionEntry& connection, const FourTuple& tuple, TcpError error) {
    if (connection.retired) return;
    connection.retired = true;
    time_wait_.release(connection);
    switch (error) {
        case TcpError::none: break;
        case TcpError::reset: count(Counter::connections_reset); break;
        case TcpError::aborted: count(Counter::connections_aborted); break;
        case TcpError::timed_out: count(Counter::connections_timed_out); break;
        case TcpError::refused: count(Counter::connections_refused); break;
        case TcpError::unreachable: count(Counter::connections_unreachable); break;
    }
    const ConnectionTotals t = totals(connection);
    counters_[Counter::retransmits] += t.retransmits;
    counters_[Counter::rto_count] += t.rto_count;
    counters_[Counter::fast_retransmits] += t.fast_retransmits;
    counters_[Counter::sack_recoveries] += t.sack_recoveries;
    if (Listener* listener = std::exchange(connection.listener, nullptr)) {
        if (connection.queued) {
            std::erase_if(listener->accept_queue,
                          [&](const auto& queued) { return queued.get() == &connection; });
            connection.queued = false;
        } else if (listener->half_open > 0) {
            --listener->half_open;
        }
    }
    if (connection.in_table) {
        connection.in_table = false;
        const auto it = table_.find(tuple);
        if (it != table_.end() && it->second.get() == &connection) table_.erase(it);  // may free
    }
}

bool FrontHalf::take_challenge_ack() {
    if (!challenge_acks_.take(scheduler_.now())) return false;
    count(Counter::challenge_acks);
    return true;
}

// --- Output -------------------------------------------------------------------------------------

void FrontHalf::transmit(const FourTuple& tuple, Packet&& segment, bool is_rst) {
    if (is_rst) count(Counter::rst_sent);
    count(Counter::segments_sent);
    // RFC 1191 3: DF on every segment, so a smaller path MTU comes back as fragmentation-needed
    // (the engines lower the MSS) instead of as fragments that PMTU discovery never sees.
    IpSendOptions send_options;
    send_options.dont_fragment = true;
    const IpSendStatus status =
        ip_.output(tuple.remote_address, IpProtocol::tcp, std::move(segment), send_options);
    if (status != IpSendStatus::sent && status != IpSendStatus::queued) count(Counter::tx_dropped);
}

void FrontHalf::transmit(const FourTuple& tuple, const wire::TcpRepr& repr) {
    const std::size_t length = repr.buffer_len();
    Packet packet = Packet::allocate(length);
    const auto bytes = packet.append(length);
    if (repr.emit(bytes, tuple.local_address, tuple.remote_address, ip_.checksum()) == 0) {
        count(Counter::tx_dropped);
        return;
    }
    transmit(tuple, std::move(packet), (repr.flags & wire::tcp_flag::rst) != 0);
}

// --- Shutdown -----------------------------------------------------------------------------------

std::size_t FrontHalf::open_connections() const noexcept {
    return table_.size() - time_wait_.count();  // every TIME-WAIT connection is in the table
}

void FrontHalf::abort_connections() {
    std::vector<std::shared_ptr<ConnectionEntry>> open;
    for (const auto& [tuple, connection] : table_)
        if (!time_wait_record(*connection)) open.push_back(connection);
    for (auto& connection : open) abort(connection);  // each retires itself from the table
}

// --- Accounting ---------------------------------------------------------------------------------

std::size_t FrontHalf::memory_in_use() const noexcept {
    // A hash node holds the key, the shared_ptr and a next pointer (+ cached hash); a
    // connection and its control block come from one make_shared allocation.
    constexpr std::size_t kNode = sizeof(FourTuple) + sizeof(std::shared_ptr<ConnectionEntry>) + 16;
    constexpr std::size_t kControlBlock = 16;
    std::size_t total = table_.bucket_count() * sizeof(void*);
    for (const auto& [tuple, connection] : table_)
        total += kNode + kControlBlock + footprint(*connection);
    return total;
}

void FrontHalf::visit_counters(const CounterVisitor& visit) const {
    EngineCounters c = counters_;
    for (const auto& [tuple, connection] : table_) {
        const ConnectionTotals t = totals(*connection);
        c[Counter::retransmits] += t.retransmits;
        c[Counter::rto_count] += t.rto_count;
        c[Counter::fast_retransmits] += t.fast_retransmits;
        c[Counter::sack_recoveries] += t.sack_recoveries;
    }
    c[Counter::connections_current] = table_.size();
    c[Counter::time_wait_current] = time_wait_.count();
    c[Counter::memory_bytes_current] = memory_in_use();
    for (std::size_t i = 0; i < kCounterCount; ++i) visit(kCounterNames[i], c.values[i]);
}

}  // namespace netloom::tcp
