// cubic.hpp — CUBIC congestion control, RFC 9438.
//
// Contract: windows are bytes outside, segments (of the MSS given at construction) inside, as the
// RFC's formulas are written. Slow start is RFC 5681's with ABC (RFC 9438 4.10; no HyStart++).
// In congestion avoidance, an epoch starts at the first ACK (the `now` passed in): cwnd_epoch =
// cwnd, K = cbrt((W_max - cwnd_epoch) / C) (4.2, eq. 2; K = 0 and W_max = cwnd_epoch when cwnd
// already exceeds W_max), W_est = cwnd_epoch. Per ACK (4.2-4.5): target = W_cubic(t + RTT)
// bounded to [cwnd, 1.5 cwnd]; W_est += alpha * acked / cwnd with alpha = 3(1-beta)/(1+beta),
// and 1 once W_est >= cwnd_prior (4.3); if W_cubic(t) < W_est the Reno-friendly region sets
// cwnd = W_est, otherwise cwnd += (target - cwnd) / cwnd per acked segment (concave below W_max,
// convex above). On loss (4.6): ssthresh = max(FlightSize * beta, 2 MSS), cwnd_prior = cwnd,
// W_max = cwnd, or cwnd * (1 + beta) / 2 with fast convergence when cwnd < the previous W_max
// (4.7). On RTO (4.8): the same ssthresh, cwnd = 1 MSS, and the next epoch uses K = 0 with W_max
// the cwnd at its start. RTT is the last one passed in an AckSample (0 until one arrives). A
// backwards time jump is treated as t = 0, never negative.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "netloom/tcp_common/congestion_window.hpp"
#include "netloom/tcp_common/newreno.hpp"

namespace netloom::tcp {

struct CubicParams {
    double c = 0.4;     // RFC 9438 4.1, segments / s^3
    double beta = 0.7;  // RFC 9438 4.1, beta_cubic
    bool fast_convergence = true;
};

class Cubic {
public:
    explicit Cubic(std::uint32_t mss, const CubicParams& params = {}) noexcept;

    void on_ack(const AckSample& ack) noexcept;
    void enter_recovery(std::uint32_t flight_size, std::chrono::nanoseconds now,
                        RecoveryStyle style) noexcept;
    void on_dup_ack() noexcept { window_.inflate_on_dup_ack(); }
    void on_partial_ack(std::uint32_t acked_bytes) noexcept {
        window_.deflate_on_partial_ack(acked_bytes);
    }
    void exit_recovery(std::uint32_t flight_size) noexcept;
    void on_rto_timeout(std::uint32_t flight_size, std::chrono::nanoseconds now,
                        bool repeated) noexcept;
    void on_idle_restart(std::chrono::nanoseconds now) noexcept;

    const CongestionWindow& window() const noexcept { return window_; }

    // Introspection (tests, tcp_info-like dumps).
    double w_max() const noexcept { return w_max_; }  ///< segments
    double k() const noexcept { return k_; }          ///< seconds, valid once an epoch started
    double w_est() const noexcept { return w_est_; }  ///< segments
    bool epoch_started() const noexcept { return epoch_start_.has_value(); }
    /// RFC 9438 eq. 1 for the current epoch: C * (t - K)^3 + W_max, segments.
    double w_cubic(double t_seconds) const noexcept;
    const CubicParams& params() const noexcept { return params_; }

private:
    void start_epoch(std::chrono::nanoseconds now) noexcept;
    double cwnd_segments() const noexcept;
    void note_loss(std::uint32_t flight_size) noexcept;

    CongestionWindow window_;
    CubicParams params_;
    double w_max_ = 0;       // segments; 0: no loss seen yet
    double k_ = 0;           // seconds
    double cwnd_epoch_ = 0;  // segments
    double w_est_ = 0;       // segments
    double cwnd_prior_ = 0;  // segments
    double cwnd_exact_ = 0;  // segments, keeps the fractional growth the byte window drops
    std::optional<std::chrono::nanoseconds> epoch_start_;
    std::chrono::nanoseconds rtt_{0};
};

}  // namespace netloom::tcp
