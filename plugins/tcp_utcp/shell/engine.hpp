// engine.hpp — the shell of tcp_utcp: what the pure core does not do for one connection, on
// top of the engine-independent front half (tcp_common/front_half.hpp: segment input checks,
// demultiplexing, listeners, SYN cookies, TIME-WAIT, ports, counters, event flush). It hands
// the front half's segments to the core, moves the payload bytes the core names
// (segment_io.hpp), keeps one scheduler timer per connection at the core's next deadline, and
// applies each rule's Outputs.
//
// Contract: single-threaded on the scheduler's thread. A connection lives in a `Socket`, shared
// by the front half (while the 4-tuple is in use on the wire) and the user's TcpConnection
// handle (while the user holds it): the engine retires a socket when the core reaches CLOSED;
// the handle forgets it when destroyed (closing gracefully, or with RST if unread data
// remains). Every core call goes through `run_core`, which emits the segments, arms the timer,
// queues the events and retires the socket if it closed.
#pragma once

#include <spdlog/logger.h>
#include <cstdint>
#include <memory>
#include <optional>

#include "core/rules.hpp"
#include "netloom/ip.hpp"
#include "netloom/scheduler.hpp"
#include "netloom/tcp.hpp"
#include "netloom/tcp_common/front_half.hpp"
#include "shell/engine_config.hpp"
#include "shell/segment_io.hpp"

namespace netloom::utcp {

/// One connection: the core's TCB plus what the shell keeps beside it.
struct Socket : tcp::ConnectionEntry {
    explicit Socket(Tcb&& tcb_) : tcb(std::move(tcb_)) {}
    Tcb tcb;
    TimerId timer = 0;  ///< scheduler timer, armed at `timer_deadline`
    Time timer_deadline{0};
    std::uint32_t last_tsval = 0;  ///< TSval of the last segment sent (TIME-WAIT reuse)
    Time time_wait_since{0};       ///< when it entered TIME-WAIT
};

class Engine final : public tcp::FrontHalf {
public:
    Engine(EngineConfig config, IpLayer& ip, Scheduler& scheduler,
           std::shared_ptr<spdlog::logger> log);
    ~Engine() override;

    /// The effective configuration (defaults filled, MSS clamped to the device, secrets drawn).
    const EngineConfig& config() const noexcept { return config_; }

    // For the user handles (connection.cpp).
    Time now() const noexcept { return scheduler_.now(); }
    /// Runs `step(tcb, out)` on the socket's core and applies the outputs.
    template <typename Step>
    auto run_core(const std::shared_ptr<Socket>& socket, Step&& step) {
        OutputsPool::Lease lease = outputs_.take();
        Outputs& out = *lease;
        socket->tcb.memory_level = memory_level();  // the core's input (tcb.hpp)
        if constexpr (std::is_void_v<decltype(step(socket->tcb, out))>) {
            step(socket->tcb, out);
            apply(socket, out);
        } else {
            auto result = step(socket->tcb, out);
            apply(socket, out);
            return result;
        }
    }

private:
    // tcp::FrontHalf's hooks.
    void deliver(std::shared_ptr<tcp::ConnectionEntry> connection,
                 const tcp::Segment& segment) override;
    void open_passive(tcp::Listener& listener, const tcp::FourTuple& tuple,
                      const tcp::Segment& syn) override;
    void send_cookie_syn_ack(const tcp::FourTuple& tuple, const tcp::Segment& syn,
                             SeqNum cookie) override;
    void open_from_cookie(tcp::Listener& listener, const tcp::FourTuple& tuple,
                          const tcp::Segment& ack, std::uint16_t mss) override;
    std::unique_ptr<TcpConnection> open_active(
        const tcp::FourTuple& tuple, const TcpConnectOptions& options,
        const std::optional<tcp::TimeWaitRecord>& reused) override;
    std::unique_ptr<TcpConnection> make_handle(
        std::shared_ptr<tcp::ConnectionEntry> connection) override;
    void deliver_icmp(std::shared_ptr<tcp::ConnectionEntry> connection,
                      const IcmpErrorReport& report) override;
    bool time_wait_accepts_syn(const tcp::ConnectionEntry& connection,
                               const tcp::Segment& syn) const override;
    std::optional<tcp::TimeWaitRecord> time_wait_record(
        const tcp::ConnectionEntry& connection) const override;
    void end_time_wait(std::shared_ptr<tcp::ConnectionEntry> connection) override;
    void abort(std::shared_ptr<tcp::ConnectionEntry> connection) override;
    std::uint32_t ts_offset(const tcp::FourTuple& tuple) const override;
    tcp::ConnectionTotals totals(const tcp::ConnectionEntry& connection) const override;
    std::size_t footprint(const tcp::ConnectionEntry& connection) const override;
    void reopen_window(std::shared_ptr<tcp::ConnectionEntry> connection) override;

    /// deliver_segment through run_core; a keep range the buffer could not store is counted
    /// (rx_store_failed) and aborts the connection.
    void run_deliver(const std::shared_ptr<Socket>& socket, const tcp::Segment& segment, Time now);
    void apply(const std::shared_ptr<Socket>& socket, Outputs& out);
    /// Sends one segment; its payload comes from `tcb`'s send buffer (none without a tcb).
    void emit(const OutgoingSegment& segment, const tcp::FourTuple& tuple,
              const Tcb* tcb = nullptr);
    void arm_timer(const std::shared_ptr<Socket>& socket);
    void on_timer(Socket* socket);
    /// The core reached CLOSED (or is taken there): timer off, out of the front half.
    void close_socket(const std::shared_ptr<Socket>& socket);
    void count_notes(std::uint32_t notes);

    EngineConfig config_;
    std::shared_ptr<spdlog::logger> log_;
    std::shared_ptr<const Config> shared_config_;  ///< one copy for every connection
    Listener listen_rules_;  ///< what the core's listener rules read (the shared config)
    OutputsPool outputs_;    ///< reused by every core call: no allocation per segment
};

}  // namespace netloom::utcp
