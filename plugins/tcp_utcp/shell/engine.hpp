// engine.hpp — the shell of tcp_utcp: everything the pure core does not do. It demultiplexes
// segments from the IP layer by 4-tuple, turns Packets into core Segments and back, keeps one
// scheduler timer per connection at the core's next deadline, posts readiness events to the
// user, and runs the listeners: a bounded half-open set and accept queue, with SYN cookies
// (RFC 4987) when either is full.
//
// Contract: single-threaded on the scheduler's thread. A connection lives in a `Socket`, shared
// by the engine (while the 4-tuple is in use on the wire) and the user's TcpConnection handle
// (while the user holds it): the engine forgets a socket when the core reaches CLOSED; the
// handle forgets it when destroyed (closing gracefully, or with RST if unread data remains).
// Every core call goes through `run_core`, which emits the segments, arms the timer, queues the
// events and retires the socket if it closed. Events reach callbacks from a posted flush, never
// from inside the call that caused them.
#pragma once

#include <spdlog/logger.h>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/rules.hpp"
#include "netloom/ip.hpp"
#include "netloom/scheduler.hpp"
#include "netloom/tcp.hpp"
#include "netloom/tcp_common/challenge_ack.hpp"
#include "netloom/tcp_common/ephemeral_ports.hpp"
#include "netloom/tcp_common/secret_seed.hpp"
#include "netloom/tcp_common/syn_cookie.hpp"
#include "shell/engine_config.hpp"
#include "shell/engine_counters.hpp"
#include "shell/segment_io.hpp"

namespace netloom::utcp {

struct ListenerState;

/// One connection: the core's TCB plus what the shell keeps beside it.
struct Socket {
    Socket(Tcb&& tcb_) : tcb(std::move(tcb_)) {}
    Tcb tcb;
    TimerId timer = 0;  ///< scheduler timer, armed at `timer_deadline`
    Time timer_deadline{0};
    std::uint32_t pending_events = 0;  ///< TcpEvent bits not yet delivered
    bool in_flush_list = false;
    bool user_attached = false;         ///< a TcpConnection handle exists
    bool in_table = false;              ///< findable by 4-tuple
    bool queued = false;                ///< passive, established, in its listener's accept queue
    bool counted_open = false;          ///< counted in connections_opened
    bool in_time_wait = false;          ///< counted in the engine's TIME-WAIT total
    bool retired = false;               ///< out of the table for good (retire ran)
    std::uint32_t last_tsval = 0;       ///< TSval of the last segment sent (TIME-WAIT reuse)
    Time time_wait_since{0};            ///< when it entered TIME-WAIT
    ListenerState* listener = nullptr;  ///< passive, not yet accepted: its listener
    std::function<void(std::uint32_t)> on_event;
};

struct ListenerState {
    Listener core;
    std::uint32_t backlog = 0;      ///< completed connections waiting for accept()
    std::uint32_t syn_backlog = 0;  ///< half-open (SYN-RECEIVED) connections
    std::uint32_t half_open = 0;
    std::deque<std::shared_ptr<Socket>> accept_queue;
    std::function<void()> on_acceptable;
    bool acceptable_pending = false;
};

struct TupleHash {
    std::size_t operator()(const tcp::FourTuple& t) const noexcept {
        std::uint64_t a =
            (std::uint64_t{t.remote_address.to_uint()} << 32) ^ t.local_address.to_uint();
        std::uint64_t b = (std::uint64_t{t.remote_port} << 16) | t.local_port;
        std::uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull);
        return static_cast<std::size_t>(h ^ (h >> 29));
    }
};

class Engine final : public TcpEngine, public Transport {
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

    /// The effective configuration (defaults filled, MSS clamped to the device, secrets drawn).
    const EngineConfig& config() const noexcept { return config_; }

    // For the user handles (connection.cpp).
    Time now() const noexcept { return scheduler_.now(); }
    /// Runs `step(tcb, out)` on the socket's core and applies the outputs.
    template <typename Step>
    auto run_core(const std::shared_ptr<Socket>& socket, Step&& step) {
        OutputsPool::Lease lease = outputs_.take();
        Outputs& out = *lease;
        if constexpr (std::is_void_v<decltype(step(socket->tcb, out))>) {
            step(socket->tcb, out);
            apply(socket, out);
        } else {
            auto result = step(socket->tcb, out);
            apply(socket, out);
            return result;
        }
    }
    void queue_events(const std::shared_ptr<Socket>& socket, std::uint32_t events);
    void notify_acceptable(ListenerState& listener);
    void close_listener(ListenerState& listener);
    std::shared_ptr<Socket> accept_from(ListenerState& listener);

private:
    void apply(const std::shared_ptr<Socket>& socket, Outputs& out);
    /// Sends one segment; its payload comes from `tcb`'s send buffer (none without a tcb).
    void emit(const OutgoingSegment& segment, const tcp::FourTuple& tuple,
              const Tcb* tcb = nullptr);
    void arm_timer(const std::shared_ptr<Socket>& socket);
    void on_timer(Socket* socket);
    void post_flush();
    void flush_events();
    void retire(const std::shared_ptr<Socket>& socket);
    void insert(const std::shared_ptr<Socket>& socket);
    void on_established(const std::shared_ptr<Socket>& socket);

    void input_no_connection(const tcp::FourTuple& tuple, const Segment& segment);
    void input_listener(ListenerState& listener, const tcp::FourTuple& tuple,
                        const Segment& segment);
    /// The local port for an active open to `tuple`'s destination; retires the TIME-WAIT
    /// connection it takes over (returned in `reused`). Throws TcpNoFreePort.
    std::uint16_t ephemeral_port(tcp::FourTuple tuple, std::optional<tcp::TimeWaitRecord>& reused);
    tcp::PortCandidate probe_port(const tcp::FourTuple& tuple) const;
    void count_notes(std::uint32_t notes);

    EngineConfig config_;
    IpLayer& ip_;
    Scheduler& scheduler_;
    std::shared_ptr<spdlog::logger> log_;
    tcp::EngineSecrets secrets_;
    std::shared_ptr<const Config> shared_config_;  ///< one copy for every connection
    tcp::SynCookies cookies_;
    tcp::EphemeralPorts ports_;
    EngineCounters counters_;
    /// RFC 5961 7: one challenge-ACK budget for every connection (tcp_common challenge_ack.hpp);
    /// the core marks its challenge ACKs and emit() drops those past the budget.
    tcp::ChallengeAckLimiter challenge_acks_{config_.core.challenge_ack_limit};

    OutputsPool outputs_;  ///< reused by every core call: no allocation per segment
    std::unordered_map<tcp::FourTuple, std::shared_ptr<Socket>, TupleHash> table_;
    std::unordered_map<std::uint16_t, ListenerState*> listeners_;
    std::vector<std::shared_ptr<Socket>> flush_list_;
    std::vector<ListenerState*> acceptable_list_;
    bool flush_posted_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::size_t time_wait_count_ = 0;
    std::optional<Time> cookies_sent_at_;  ///< last SYN cookie sent (validate only after one)
    static constexpr Time kCookieLife = std::chrono::seconds(128);  ///< two cookie slots
    std::vector<ListenerState*>* flushing_listeners_ = nullptr;
    bool started_ = false;
};

}  // namespace netloom::utcp
