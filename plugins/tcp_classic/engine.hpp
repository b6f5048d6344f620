// engine.hpp — the tcp_classic engine: the engine-independent front half (tcp_common/
// front_half.hpp: segment input checks, demultiplexing, listeners, SYN cookies, TIME-WAIT,
// ports, counters, event flush) around event-driven Pcb objects (pcb.hpp). It hands each
// segment to its Pcb, opens Pcbs for the front half, and is the PcbHost every Pcb reports to.
//
// Contract: single-threaded on the scheduler's thread. The front half's table holds a
// shared_ptr to every Pcb whose 4-tuple is in use; user handles hold another. `retire` (called
// by a Pcb reaching CLOSED) drops the table's reference. Handles may outlive the engine.
#pragma once

#include <spdlog/logger.h>
#include <cstdint>
#include <memory>
#include <optional>

#include "engine_config.hpp"
#include "netloom/tcp.hpp"
#include "netloom/tcp_common/front_half.hpp"
#include "pcb.hpp"

namespace netloom::classic {

class Engine final : public tcp::FrontHalf, public PcbHost {
public:
    Engine(EngineConfig config, IpLayer& ip, Scheduler& scheduler,
           std::shared_ptr<spdlog::logger> log);
    ~Engine() override;

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
    void note(tcp::Counter counter) override;
    tcp::MemoryLevel memory_level(std::size_t extra = 0) const noexcept override {
        return FrontHalf::memory_level(extra);
    }
    void window_held(Pcb& pcb) override { hold_window(pcb.shared_from_this()); }
    void send_refused(Pcb& pcb) override { wait_for_memory(pcb.shared_from_this()); }
    void footprint_changed(Pcb& pcb) override { recharge(pcb, pcb.memory_footprint()); }

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

    /// A new Pcb for `tuple`, in the table (one of `listener`'s half-open ones, if given).
    std::shared_ptr<Pcb> make_pcb(const tcp::FourTuple& tuple, tcp::Listener* listener);

    EngineConfig config_;
    std::shared_ptr<spdlog::logger> log_;
};

}  // namespace netloom::classic
