// congestion_window.hpp — the window bookkeeping NewReno and CUBIC share: RFC 5681 slow start with
// appropriate byte counting (RFC 3465, L = 2), the fast-recovery window rules of RFC 5681 3.2 /
// RFC 6582 3.2 (NewReno-style inflation and partial-ACK deflation) or RFC 6675 (SACK: cwnd stays
// at ssthresh and the engine's pipe does the work), the RTO collapse to one segment (RFC 5681 3.1
// "loss window") and the restart after idle (RFC 5681 4.1).
//
// Contract: windows are bytes, never below 1 MSS for cwnd nor 2 MSS for ssthresh once a loss was
// seen, never above kMaxWindow. The initial ssthresh is kInfiniteSsthresh (RFC 5681 3.1
// "arbitrarily high", the value Linux reports). The *engine* decides when recovery starts and
// ends (dup-ACK counting, RFC 6675 IsLost, RecoveryPoint); this only changes the numbers.
#pragma once

#include <algorithm>
#include <cstdint>

namespace netloom::tcp {

/// How the engine runs fast recovery, which decides how cwnd moves during it.
enum class RecoveryStyle : std::uint8_t {
    newreno,  ///< RFC 6582: cwnd = ssthresh + 3 MSS, +1 MSS per dup ACK, deflate on partial ACK
    sack,     ///< RFC 6675: cwnd = ssthresh for the whole recovery; pipe limits sending
};

/// RFC 6928 initial window: min(10*MSS, max(2*MSS, 14600)).
constexpr std::uint32_t initial_window(std::uint32_t mss) noexcept {
    const std::uint64_t ten = std::uint64_t{mss} * 10;
    const std::uint64_t floor = std::max<std::uint64_t>(std::uint64_t{mss} * 2, 14600);
    return static_cast<std::uint32_t>(std::min(ten, floor));
}

class CongestionWindow {
public:
    static constexpr std::uint32_t kInfiniteSsthresh = 0x7fffffff;
    static constexpr std::uint32_t kMaxWindow = 0x7fffffff;

    explicit CongestionWindow(std::uint32_t mss) noexcept;

    std::uint32_t cwnd() const noexcept { return cwnd_; }
    std::uint32_t ssthresh() const noexcept { return ssthresh_; }
    std::uint32_t mss() const noexcept { return mss_; }
    bool in_slow_start() const noexcept { return cwnd_ < ssthresh_; }
    bool in_recovery() const noexcept { return in_recovery_; }
    RecoveryStyle recovery_style() const noexcept { return style_; }

    /// Slow start with ABC (RFC 3465 2.2, L = 2 MSS), not past ssthresh. Returns false (and does
    /// nothing) when not in slow start.
    bool grow_slow_start(std::uint32_t acked_bytes) noexcept;
    /// Congestion avoidance with ABC (RFC 3465 2.1 / RFC 5681 3.1 eq. 3): +1 MSS per cwnd acked.
    void grow_congestion_avoidance(std::uint32_t acked_bytes) noexcept;
    /// Enter fast recovery with a new ssthresh (RFC 5681 3.2 steps 2-3 / RFC 6675 5 step 4).
    void begin_recovery(std::uint32_t new_ssthresh, RecoveryStyle style) noexcept;
    /// RFC 5681 3.2 step 4: NewReno-style recovery inflates by one MSS per duplicate ACK.
    void inflate_on_dup_ack() noexcept;
    /// RFC 6582 3.2 step 5: deflate by the newly acked bytes, add back one MSS if >= MSS.
    void deflate_on_partial_ack(std::uint32_t acked_bytes) noexcept;
    /// RFC 6582 3.2 step 3, option (1): cwnd = min(ssthresh, max(FlightSize, MSS) + MSS), which
    /// avoids a burst; SACK recovery leaves with cwnd = ssthresh.
    void end_recovery(std::uint32_t flight_size) noexcept;
    /// RFC 5681 3.1: after an RTO, cwnd = 1 MSS (the loss window).
    void collapse(std::uint32_t new_ssthresh) noexcept;
    /// RFC 5681 4.1: cwnd = min(RW, cwnd) with RW = min(IW, cwnd).
    void restart_after_idle() noexcept;

    void set_cwnd(std::uint64_t bytes) noexcept;
    void set_ssthresh(std::uint64_t bytes) noexcept;

private:
    std::uint32_t cwnd_;
    std::uint32_t ssthresh_ = kInfiniteSsthresh;
    std::uint32_t mss_;
    std::uint32_t ca_bytes_acked_ = 0;  // RFC 3465 bytes_acked
    bool in_recovery_ = false;
    RecoveryStyle style_ = RecoveryStyle::sack;
};

/// RFC 5681 eq. 4: ssthresh = max(FlightSize / 2, 2 * SMSS).
constexpr std::uint32_t reno_loss_ssthresh(std::uint32_t flight_size, std::uint32_t mss) noexcept {
    return std::max<std::uint32_t>(flight_size / 2, 2 * mss);
}

}  // namespace netloom::tcp
