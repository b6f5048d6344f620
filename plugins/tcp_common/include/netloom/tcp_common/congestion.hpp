// congestion.hpp — CongestionControl: the one congestion-control type both engines hold, and the
// factory by name ("newreno", "cubic").
//
// Why a std::variant and not a virtual base: the set of algorithms is closed (it is this library),
// and tcp_utcp's core is `(state, input, now) -> (state', outputs)` — its connection state must be
// a copyable, comparable-by-parts value. A variant is copyable, lives inline in the connection (no
// allocation per connection, no pointer chase per ACK) and dispatches with one switch. tcp_classic
// can hold it by value the same way, or in a unique_ptr if it prefers.
//
// Events, all driven by the engine (which owns dup-ACK counting, RecoveryPoint and the timers):
//   on_ack          an ACK advanced SND.UNA outside recovery (growth: slow start / CA)
//   enter_recovery  fast retransmit (3 dup ACKs or RFC 6675 IsLost): new ssthresh, cwnd
//   on_dup_ack      a further duplicate ACK during NewReno-style recovery (inflation)
//   on_partial_ack  an ACK during recovery that does not cover RecoveryPoint (RFC 6582 deflation)
//   exit_recovery   a full ACK of RecoveryPoint (deflate to ssthresh)
//   on_rto_timeout  the retransmission timer expired (`repeated`: the same data timed out again)
//   on_idle_restart sending resumes after more than one RTO of idleness (RFC 5681 4.1)
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>

#include "netloom/tcp_common/congestion_window.hpp"
#include "netloom/tcp_common/cubic.hpp"
#include "netloom/tcp_common/newreno.hpp"

namespace netloom::tcp {

class CongestionControl {
public:
    explicit CongestionControl(NewReno algorithm) noexcept : impl_(algorithm) {}
    explicit CongestionControl(Cubic algorithm) noexcept : impl_(algorithm) {}

    /// "newreno" or "cubic"; empty for any other name.
    static std::optional<CongestionControl> create(std::string_view name, std::uint32_t mss);
    /// The names create() accepts (for config validation messages).
    static std::span<const std::string_view> names() noexcept;

    std::string_view name() const noexcept;

    /// RFC 7661 / RFC 5681 4.1 spirit: a window the sender does not use says nothing about the
    /// network, so it must not grow (else an app-limited or receive-window-limited flow ends
    /// up with a cwnd of hundreds of MiB, and the first loss "halves" it to a value that still
    /// allows a line-rate burst). Like Linux's tcp_is_cwnd_limited: in slow start, grow while
    /// cwnd < 2 x the flight before the ACK; in congestion avoidance, only if that flight
    /// filled cwnd to within one MSS.
    bool window_in_use(std::uint32_t flight_before_ack) const noexcept {
        const CongestionWindow& w = window();
        if (w.in_slow_start()) return w.cwnd() < 2ull * flight_before_ack;
        return static_cast<std::uint64_t>(flight_before_ack) + w.mss() >= w.cwnd();
    }

    void on_ack(const AckSample& ack) noexcept {
        if (!ack.window_in_use) return;
        std::visit([&](auto& cc) { cc.on_ack(ack); }, impl_);
    }
    void enter_recovery(std::uint32_t flight_size, std::chrono::nanoseconds now,
                        RecoveryStyle style) noexcept {
        std::visit([&](auto& cc) { cc.enter_recovery(flight_size, now, style); }, impl_);
    }
    void on_dup_ack() noexcept {
        std::visit([](auto& cc) { cc.on_dup_ack(); }, impl_);
    }
    void on_partial_ack(std::uint32_t acked_bytes) noexcept {
        std::visit([&](auto& cc) { cc.on_partial_ack(acked_bytes); }, impl_);
    }
    void exit_recovery(std::uint32_t flight_size) noexcept {
        std::visit([&](auto& cc) { cc.exit_recovery(flight_size); }, impl_);
    }
    void on_rto_timeout(std::uint32_t flight_size, std::chrono::nanoseconds now,
                        bool repeated = false) noexcept {
        std::visit([&](auto& cc) { cc.on_rto_timeout(flight_size, now, repeated); }, impl_);
    }
    void on_idle_restart(std::chrono::nanoseconds now) noexcept {
        std::visit([&](auto& cc) { cc.on_idle_restart(now); }, impl_);
    }

    const CongestionWindow& window() const noexcept {
        return std::visit([](const auto& cc) -> const CongestionWindow& { return cc.window(); },
                          impl_);
    }
    std::uint32_t cwnd() const noexcept { return window().cwnd(); }
    std::uint32_t ssthresh() const noexcept { return window().ssthresh(); }
    bool in_recovery() const noexcept { return window().in_recovery(); }

    /// The algorithm itself, for introspection (nullptr if it is the other one).
    template <typename Algorithm>
    const Algorithm* get() const noexcept {
        return std::get_if<Algorithm>(&impl_);
    }

private:
    std::variant<NewReno, Cubic> impl_;
};

}  // namespace netloom::tcp
