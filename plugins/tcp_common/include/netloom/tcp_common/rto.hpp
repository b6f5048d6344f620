// rto.hpp — the retransmission timeout estimator of RFC 6298, with Karn's rule (RFC 6298 3).
//
// Contract: deterministic, no clock reads; RTT samples and durations are std::chrono::nanoseconds
// passed in by the engine. Before any sample, rto() is `initial_rto` (RFC 6298 2.1: 1 s). The first
// sample R sets SRTT = R, RTTVAR = R/2 (2.2); later ones apply RTTVAR = 3/4 RTTVAR + 1/4 |SRTT-R|
// then SRTT = 7/8 SRTT + 1/8 R (2.3, that order). The base RTO is SRTT + max(G, 4*RTTVAR) clamped
// to [min_rto, max_rto]. Each timeout doubles the RTO (5.5) up to max_rto; a new sample clears
// the backoff (5.7 and the "new RTO is computed" rule of 5.7/2.3). Give-up policy (how many
// backoffs before aborting) is the engine's: it reads backoff_count().
//
// Parameters (RtoConfig): min_rto defaults to 200 ms like Linux (TCP_RTO_MIN); RFC 6298 2.4 says
// 1 s — set it to 1 s for strict conformance. max_rto defaults to 60 s (RFC 6298 2.5: a maximum
// "at least 60 seconds"). granularity G defaults to 1 ms (the clock granularity of the engines'
// timers; RFC 6298 4). Negative or zero samples are clamped to 1 ns rather than refused: a time
// jump must not poison the estimator.
//
// min_rtt() is the smallest sample ever fed (RFC 8985's min_RTT, without its windowed filter: a
// path whose RTT grows for good keeps an old minimum, which only makes the reordering window
// smaller).
// Not done here: the timestamp-based multi-sample adjustment of RFC 7323 Appendix G (each valid
// timestamp echo is fed as an ordinary sample), and RFC 6298 5.7's 3 s fallback after a
// handshake timeout (both engines apply it through set_initial_rto()).
#pragma once

#include <chrono>
#include <cstdint>

namespace netloom::tcp {

using Duration = std::chrono::nanoseconds;

struct RtoConfig {
    Duration initial_rto = std::chrono::seconds(1);       // RFC 6298 2.1
    Duration min_rto = std::chrono::milliseconds(200);    // Linux; RFC 6298 2.4 says 1 s
    Duration max_rto = std::chrono::seconds(60);          // RFC 6298 2.5
    Duration granularity = std::chrono::milliseconds(1);  // G, RFC 6298 2.x
};

class RtoEstimator {
public:
    explicit RtoEstimator(const RtoConfig& config = {}) noexcept;

    /// One RTT measurement (RFC 6298 2.2/2.3). Clears the backoff.
    void on_rtt_sample(Duration rtt) noexcept;
    /// The retransmission timer expired: double the RTO (RFC 6298 5.5), capped at max_rto.
    void on_timeout() noexcept;
    /// Forget the backoff without a sample (e.g. the engine's policy on a new ACK).
    void reset_backoff() noexcept { backoff_count_ = 0; }
    /// RFC 6298 5.7: lets the engine restart from a different RTO before the first sample.
    void set_initial_rto(Duration rto) noexcept;

    /// Current timeout, backoff included.
    Duration rto() const noexcept;
    /// Timeout without backoff (what the next sample-free timer would use after reset).
    Duration base_rto() const noexcept { return base_rto_; }
    bool has_sample() const noexcept { return has_sample_; }
    Duration srtt() const noexcept { return srtt_; }      ///< 0 before the first sample
    Duration rttvar() const noexcept { return rttvar_; }  ///< 0 before the first sample
    /// Smallest sample seen (RFC 8985 min_RTT, over the connection's life); 0 before the first.
    Duration min_rtt() const noexcept { return min_rtt_; }
    /// Consecutive timeouts since the last sample (or reset_backoff).
    std::uint32_t backoff_count() const noexcept { return backoff_count_; }
    const RtoConfig& config() const noexcept { return config_; }

private:
    Duration clamp(Duration rto) const noexcept;

    RtoConfig config_;
    Duration srtt_{0};
    Duration rttvar_{0};
    Duration min_rtt_{0};
    Duration base_rto_;
    std::uint32_t backoff_count_ = 0;
    bool has_sample_ = false;
};

/// Karn's rule (RFC 6298 3): an ACK for a segment that was retransmitted says nothing about which
/// transmission it answers, so its RTT is not sampled — unless the RTT comes from a timestamp
/// echo, which identifies the transmission (RFC 7323 4.1/4.2).
constexpr bool rtt_sample_allowed(bool segment_was_retransmitted,
                                  bool measured_by_timestamp) noexcept {
    return measured_by_timestamp || !segment_was_retransmitted;
}

}  // namespace netloom::tcp
