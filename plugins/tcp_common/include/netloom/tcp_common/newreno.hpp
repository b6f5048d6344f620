// newreno.hpp — Reno congestion control (RFC 5681) with NewReno recovery numbers (RFC 6582).
//
// Contract: slow start and congestion avoidance count bytes (RFC 3465, L = 2 MSS). On a loss
// detected by duplicate ACKs or SACK, ssthresh = max(FlightSize/2, 2*MSS) (RFC 5681 eq. 4); on an
// RTO the same, and cwnd = 1 MSS — except that a repeated timeout of the same data keeps ssthresh
// (RFC 5681 3.1 note on eq. 4: otherwise each backoff would halve it again from a tiny flight).
// No growth happens during recovery: the engine reports partial ACKs with on_partial_ack.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "netloom/tcp_common/congestion_window.hpp"

namespace netloom::tcp {

/// What an ACK that advanced SND.UNA outside recovery tells the congestion controller.
struct AckSample {
    std::uint32_t acked_bytes = 0;                ///< newly acknowledged bytes
    std::chrono::nanoseconds now{0};              ///< engine time of the ACK
    std::optional<std::chrono::nanoseconds> rtt;  ///< smoothed RTT (or latest sample) if known
    std::uint32_t bytes_in_flight = 0;            ///< after this ACK
    /// Whether the sender was using its window when this ACK came (see window_in_use());
    /// CongestionControl::on_ack grows cwnd only then.
    bool window_in_use = true;
};

class NewReno {
public:
    explicit NewReno(std::uint32_t mss) noexcept : window_(mss) {}

    void on_ack(const AckSample& ack) noexcept;
    void enter_recovery(std::uint32_t flight_size, std::chrono::nanoseconds now,
                        RecoveryStyle style) noexcept;
    void on_dup_ack() noexcept { window_.inflate_on_dup_ack(); }
    void on_partial_ack(std::uint32_t acked_bytes) noexcept {
        window_.deflate_on_partial_ack(acked_bytes);
    }
    void exit_recovery(std::uint32_t flight_size) noexcept { window_.end_recovery(flight_size); }
    void on_rto_timeout(std::uint32_t flight_size, std::chrono::nanoseconds now,
                        bool repeated) noexcept;
    void on_idle_restart(std::chrono::nanoseconds now) noexcept;

    const CongestionWindow& window() const noexcept { return window_; }

private:
    CongestionWindow window_;
};

}  // namespace netloom::tcp
