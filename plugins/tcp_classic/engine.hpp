// engine.hpp — the tcp_classic engine: the IP layer's TCP transport and the TcpEngine. It
// parses and checksums segments, finds the Pcb by 4-tuple and hands the segment to it, answers
// segments for closed ports with RST (RFC 9293 3.10.7.1), runs listeners (a bounded half-open
// set and accept queue, SYN cookies past them, RFC 4987), delivers the events Pcbs accumulate
// from one posted flush per loop turn, and keeps the engine-wide counters.
//
// Contract: single-threaded on the scheduler's thread. The table holds a shared_ptr to every
// Pcb whose 4-tuple is in use; user handles hold another. `retire` (called by a Pcb reaching
// CLOSED) drops the table's reference. The engine must outlive every handle it gave out.
#pragma once

#include <spdlog/logger.h>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine_config.hpp"
#include "netloom/tcp.hpp"
#include "netloom/tcp_common/challenge_ack.hpp"
#include "netloom/tcp_common/ephemeral_ports.hpp"
#include "netloom/tcp_common/secret_seed.hpp"
#include "netloom/tcp_common/siphash.hpp"
#include "netloom/tcp_common/syn_cookie.hpp"
#include "pcb.hpp"

namespace netloom::classic {

struct Listener {
    std::uint16_t port = 0;
    std::uint32_t backlog = 0;      ///< completed connections waiting for accept()
    std::uint32_t syn_backlog = 0;  ///< bound on half-open connections
    std::uint32_t half_open = 0;
    std::deque<std::shared_ptr<Pcb>> accept_queue;
    std::function<void()> on_acceptable;
    bool acceptable_pending = false;
};

struct TupleHash {
    std::size_t operator()(const tcp::FourTuple& t) const noexcept {
        const std::uint64_t addresses =
            (std::uint64_t{t.remote_address.to_uint()} << 32) | t.local_address.to_uint();
        const std::uint64_t ports = (std::uint64_t{t.remote_port} << 16) | t.local_port;
        std::uint64_t h = (addresses ^ (ports * 0xff51afd7ed558ccdull)) * 0xc4ceb9fe1a85ec53ull;
        return static_cast<std::size_t>(h ^ (h >> 32));
    }
};

class Engine final : public TcpEngine, public Transport, public PcbHost {
public:
    Engine(EngineConfig config, IpLayer& ip, Scheduler& scheduler,
           std::shared_ptr<spdlog::logger> log);
    ~Engine() override;

    // TcpEngine
    void start() override;
    std::unique_ptr<TcpListener> listen(std::uint16_t port, std::uint32_t backlog = 0) override;
    std::unique_ptr<TcpConnection> connect(const TcpEndpoint& remote,
                                           const TcpConnectOptions& options = {}) override;
    std::size_t memory_in_use() const noexcept override;
    void visit_counters(const CounterVisitor& visit) const override;

    // Transport
    void ip_input(const IpMeta& meta, Packet&& segment) override;
    void ip_error(const IcmpErrorReport& report) override;

    // PcbHost
    Scheduler& scheduler() noexcept override { return scheduler_; }
    IpLayer& ip() noexcept override { return ip_; }
    const EngineConfig& config() const noexcept override { return config_; }
    void transmit(const tcp::FourTuple& tuple, Packet&& segment, bool is_rst) override;
    void post_events(Pcb& pcb, std::uint32_t events) override;
    void established(Pcb& pcb) override;
    bool accept_queue_full(const Pcb& pcb) override;
    bool admit_time_wait(Pcb& pcb) override;
    void retire(Pcb& pcb) override;
    bool take_challenge_ack() override;
    void note(std::string_view counter) override;

    // For the handles (handles.cpp).
    /// Shared with the handles: false once the engine is destroyed (they may outlive it).
    std::shared_ptr<bool> alive_flag() const noexcept { return alive_; }
    void close_listener(Listener& listener);
    std::shared_ptr<Pcb> accept_from(Listener& listener);
    void notify_acceptable(Listener& listener);

private:
    void input_no_connection(const tcp::FourTuple& tuple, const Segment& segment);
    void input_listener(Listener& listener, const tcp::FourTuple& tuple, const Segment& segment);
    void send_rst_for(const tcp::FourTuple& tuple, const Segment& segment);
    void send_cookie_syn_ack(const tcp::FourTuple& tuple, const Segment& syn, SeqNum cookie);
    std::shared_ptr<Pcb> make_pcb(const tcp::FourTuple& tuple);
    void post_flush();
    void flush_events();
    /// The local port for an active open to `tuple`'s destination; ends the TIME-WAIT it takes
    /// over (returned in `reused`). Throws TcpNoFreePort.
    std::uint16_t ephemeral_port(tcp::FourTuple tuple, std::optional<tcp::TimeWaitRecord>& reused);
    tcp::PortCandidate probe_port(const tcp::FourTuple& tuple) const;

    EngineConfig config_;
    IpLayer& ip_;
    Scheduler& scheduler_;
    std::shared_ptr<spdlog::logger> log_;
    tcp::EngineSecrets secrets_;
    tcp::SynCookies cookies_;
    tcp::EphemeralPorts ports_;

    std::unordered_map<tcp::FourTuple, std::shared_ptr<Pcb>, TupleHash> table_;
    std::unordered_map<std::uint16_t, Listener*> listeners_;
    std::vector<std::shared_ptr<Pcb>> event_list_;
    std::vector<Listener*> acceptable_list_;
    /// The batch flush_events() is delivering; close_listener() nulls its entry so a callback
    /// destroying another listener's handle leaves no dangling pointer behind.
    std::vector<Listener*>* flushing_listeners_ = nullptr;
    bool flush_posted_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    bool started_ = false;
    /// RFC 5961 7: one challenge-ACK budget for every connection (tcp_common challenge_ack.hpp).
    tcp::ChallengeAckLimiter challenge_acks_{config_.challenge_ack_limit};
    std::uint32_t time_wait_current_ = 0;  ///< Pcbs in TIME-WAIT (bounded by max_time_wait)

    std::unordered_map<std::string_view, std::uint64_t> notes_;  ///< counters Pcbs report by name
    struct Counters {
        std::uint64_t segments_received = 0, segments_sent = 0, rx_bad_checksum = 0,
                      rx_malformed = 0, rx_syn_fin = 0, rx_no_connection = 0, rst_sent = 0,
                      tx_dropped = 0, syn_cookies_sent = 0, syn_cookies_accepted = 0,
                      syn_cookies_rejected = 0, listen_overflows = 0, listen_drops = 0,
                      connections_opened = 0, connections_reset = 0, time_wait_reused = 0,
                      time_wait_reused_active = 0, ephemeral_exhausted = 0, icmp_errors = 0,
                      rx_not_unicast = 0, time_wait_overflows = 0, retransmits = 0, rto_count = 0,
                      fast_retransmits = 0, sack_recoveries = 0;
    } counters_;
};

}  // namespace netloom::classic
