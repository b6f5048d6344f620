// front_half.hpp — FrontHalf: the part of a TCP engine that does not depend on how it runs a
// connection, written once for tcp_utcp and tcp_classic. It is the IP layer's TCP transport
// and the TcpEngine: segment input checks (segment_input.hpp), demultiplexing by 4-tuple
// (connection_table.hpp), RSTs for closed ports (RFC 9293 3.10.7.1), listeners with their
// half-open count and accept queue and SYN cookies past them (RFC 4987 3.6), the TIME-WAIT
// count, cap and reuse (time_wait_table.hpp, RFC 6191), ephemeral ports (RFC 6056), connect()'s
// checks, the engine-wide challenge-ACK budget (RFC 5961 7), the counters (one list:
// engine_counters.hpp), the posted event flush (event_flush.hpp), ICMP error demultiplexing
// and memory accounting.
//
// Contract: an engine derives from FrontHalf, its connection type from ConnectionEntry, and
// supplies the per-connection machine through the hooks below (one virtual call per segment,
// none per byte). The engine creates connections (the hooks open_*) and registers them with
// `adopt`; it reports their life through `on_established`, `enter_time_wait` and `retire`
// (exactly once, on reaching CLOSED; it drops the table's reference, so the engine keeps one
// of its own across the call). Single-threaded on the scheduler's thread. A derived engine's
// destructor tears its connections down, then calls `drop_connections`.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "netloom/ip.hpp"
#include "netloom/scheduler.hpp"
#include "netloom/tcp.hpp"
#include "netloom/tcp_common/challenge_ack.hpp"
#include "netloom/tcp_common/connection_table.hpp"
#include "netloom/tcp_common/engine_counters.hpp"
#include "netloom/tcp_common/engine_options.hpp"
#include "netloom/tcp_common/ephemeral_ports.hpp"
#include "netloom/tcp_common/event_flush.hpp"
#include "netloom/tcp_common/listener.hpp"
#include "netloom/tcp_common/secret_seed.hpp"
#include "netloom/tcp_common/segment.hpp"
#include "netloom/tcp_common/syn_cookie.hpp"
#include "netloom/tcp_common/time_wait_table.hpp"

namespace netloom::tcp {

/// A connection's own counts, summed into the engine's counters (live ones when read, retired
/// ones once, on retire).
struct ConnectionTotals {
    std::uint64_t retransmits = 0, rto_count = 0, fast_retransmits = 0, sack_recoveries = 0;
};

class FrontHalf : public TcpEngine, public Transport {
public:
    // TcpEngine
    void start() final;
    std::unique_ptr<TcpListener> listen(std::uint16_t port, std::uint32_t backlog = 0) final;
    std::unique_ptr<TcpConnection> connect(const TcpEndpoint& remote,
                                           const TcpConnectOptions& options = {}) final;
    std::size_t memory_in_use() const noexcept final;
    std::size_t open_connections() const noexcept final;
    void abort_connections() final;
    void visit_counters(const CounterVisitor& visit) const final;

    // Transport
    void ip_input(const IpMeta& meta, Packet&& packet) final;
    void ip_error(const IcmpErrorReport& report) final;

    // For the handles (listener_handle.hpp, the engines' connection handles).
    /// False once the engine is destroyed: handles may outlive it.
    std::shared_ptr<bool> alive_flag() const noexcept { return alive_; }
    void close_listener(Listener& listener);
    std::unique_ptr<TcpConnection> accept_from(Listener& listener);
    void notify_acceptable(Listener& listener) { flush_.notify_acceptable(listener); }
    void queue_events(const std::shared_ptr<ConnectionEntry>& connection, std::uint32_t events) {
        flush_.queue(connection, events);
    }

protected:
    /// `engine_name` prefixes connect()'s and listen()'s error messages. `options`' MSS is
    /// clamped to the device (options().mss); the secrets come from `secret_seed`
    /// (secret_seed.hpp).
    FrontHalf(std::string_view engine_name, const EngineOptions& options,
              std::optional<std::uint64_t> secret_seed, IpLayer& ip, Scheduler& scheduler);
    ~FrontHalf() override;

    // --- The engine's per-connection machine ------------------------------------------------
    /// A segment for an existing connection (the front half keeps it alive for the call).
    virtual void deliver(std::shared_ptr<ConnectionEntry> connection, const Segment& segment) = 0;
    /// A SYN for a listener with room (RFC 9293 3.10.7.2): open a SYN-RECEIVED connection
    /// (adopt it with `&listener`) and answer, or answer without one.
    virtual void open_passive(Listener& listener, const FourTuple& tuple, const Segment& syn) = 0;
    /// Answer `syn` with a SYN-ACK whose ISS is `cookie` and keep no state (RFC 4987 3.6).
    virtual void send_cookie_syn_ack(const FourTuple& tuple, const Segment& syn, SeqNum cookie) = 0;
    /// `ack` returned a valid cookie encoding `mss`: open the ESTABLISHED connection (adopt it
    /// with `&listener`) and take what the ACK carries.
    virtual void open_from_cookie(Listener& listener, const FourTuple& tuple, const Segment& ack,
                                  std::uint16_t mss) = 0;
    /// connect(): open (adopt) the connection, send its SYN, return the user's handle. `reused`:
    /// the TIME-WAIT connection whose 4-tuple it takes over (its ISS must lie beyond).
    virtual std::unique_ptr<TcpConnection> open_active(
        const FourTuple& tuple, const TcpConnectOptions& options,
        const std::optional<TimeWaitRecord>& reused) = 0;
    /// accept(): the user's handle on an accepted connection.
    virtual std::unique_ptr<TcpConnection> make_handle(
        std::shared_ptr<ConnectionEntry> connection) = 0;
    virtual void deliver_icmp(std::shared_ptr<ConnectionEntry> connection,
                              const IcmpErrorReport& report) = 0;
    /// RFC 6191 / RFC 9293 3.10.7.4: may `syn` (no ACK) reopen this TIME-WAIT connection?
    virtual bool time_wait_accepts_syn(const ConnectionEntry& connection,
                                       const Segment& syn) const = 0;
    /// What the reuse rule needs of a connection in TIME-WAIT; empty in any other state.
    virtual std::optional<TimeWaitRecord> time_wait_record(
        const ConnectionEntry& connection) const = 0;
    /// End TIME-WAIT now (its 4-tuple is reused): CLOSED, retired.
    virtual void end_time_wait(std::shared_ptr<ConnectionEntry> connection) = 0;
    /// Reset the connection (its listener is closing; RFC 9293 3.10.4), retired.
    virtual void abort(std::shared_ptr<ConnectionEntry> connection) = 0;
    /// RFC 7323 5.4: the TSval offset every incarnation of `tuple` uses.
    virtual std::uint32_t ts_offset(const FourTuple& tuple) const = 0;
    virtual ConnectionTotals totals(const ConnectionEntry& connection) const = 0;
    /// Bytes the connection holds (its object and buffers).
    virtual std::size_t footprint(const ConnectionEntry& connection) const = 0;

    // --- What the front half does for the engine ----------------------------------------------
    const EngineOptions& options() const noexcept { return options_; }
    const EngineSecrets& secrets() const noexcept { return secrets_; }
    void count(Counter counter) noexcept { ++counters_[counter]; }
    /// Puts a new connection in the table; with a listener, as one of its half-open ones.
    void adopt(const std::shared_ptr<ConnectionEntry>& connection, const FourTuple& tuple,
               Listener* listener);
    /// The connection holding `tuple`, or null.
    const std::shared_ptr<ConnectionEntry>* find(const FourTuple& tuple) const;
    /// The connection reached ESTABLISHED (counted once); a passive one joins its listener's
    /// accept queue.
    void on_established(const std::shared_ptr<ConnectionEntry>& connection);
    /// True (counted as a listen overflow) when `connection` is half-open and its listener's
    /// accept queue is full: the ACK completing its handshake is then dropped, the peer
    /// retransmits it (Linux does the same) and the SYN-ACK timer keeps the half-open state.
    bool accept_queue_full(const ConnectionEntry& connection);
    /// The connection enters TIME-WAIT: false (counted) when max_time_wait connections already
    /// wait; it must then go straight to CLOSED.
    bool enter_time_wait(ConnectionEntry& connection);
    /// The connection reached CLOSED with `error`: out of the table, its listener and the
    /// TIME-WAIT count; its totals and its end are counted. Idempotent.
    void retire(ConnectionEntry& connection, const FourTuple& tuple, TcpError error);
    /// RFC 5961 7: one challenge ACK from the engine-wide budget (counted); false when spent.
    bool take_challenge_ack();
    /// Sends a complete segment (checksum filled) from `tuple`'s local end; counts it.
    void transmit(const FourTuple& tuple, Packet&& segment, bool is_rst);
    /// Builds and sends `repr` from `tuple`'s local end (tx_dropped if it cannot be built).
    void transmit(const FourTuple& tuple, const wire::TcpRepr& repr);
    EventFlush& event_flush() noexcept { return flush_; }
    const ConnectionTable& connections() const noexcept { return table_; }
    /// For the engine's destructor, after it tore its connections down.
    void drop_connections() noexcept;

    IpLayer& ip_;
    Scheduler& scheduler_;

private:
    void input_no_connection(const FourTuple& tuple, const Segment& segment);
    void input_listener(Listener& listener, const FourTuple& tuple, const Segment& segment);
    /// The local port for an active open to `tuple`'s destination; ends the TIME-WAIT it takes
    /// over (returned in `reused`). Throws TcpNoFreePort.
    std::uint16_t ephemeral_port(FourTuple tuple, std::optional<TimeWaitRecord>& reused);
    PortCandidate probe_port(const FourTuple& tuple) const;

    std::string name_;
    EngineOptions options_;
    EngineSecrets secrets_;
    SynCookies cookies_;
    EphemeralPorts ports_;
    ChallengeAckLimiter challenge_acks_;
    ConnectionTable table_;
    std::unordered_map<std::uint16_t, Listener*> listeners_;
    TimeWaitTable time_wait_;
    EventFlush flush_;
    EngineCounters counters_;
    std::optional<std::chrono::nanoseconds> cookies_sent_at_;  ///< validate only after one
    static constexpr std::chrono::nanoseconds kCookieLife = std::chrono::seconds(128);
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    bool started_ = false;
};

}  // namespace netloom::tcp
