// rto.cpp — RFC 6298 estimator arithmetic (see rto.hpp for the contract).
#include "netloom/tcp_common/rto.hpp"

#include <algorithm>

namespace netloom::tcp {

RtoEstimator::RtoEstimator(const RtoConfig& config) noexcept
    : config_(config), base_rto_(clamp(config.initial_rto)) {}

Duration RtoEstimator::clamp(Duration rto) const noexcept {
    // max first, so a misconfigured min_rto > max_rto still yields max_rto (the hard ceiling).
    return std::min(std::max(rto, config_.min_rto), config_.max_rto);
}

void RtoEstimator::set_initial_rto(Duration rto) noexcept {
    if (!has_sample_) base_rto_ = clamp(rto);
}

void RtoEstimator::on_rtt_sample(Duration rtt) noexcept {
    rtt = std::max(rtt, Duration(1));
    if (!has_sample_) {
        // RFC 6298 2.2
        srtt_ = rtt;
        rttvar_ = rtt / 2;
        min_rtt_ = rtt;
        has_sample_ = true;
    } else {
        // RFC 6298 2.3 with beta = 1/4 and alpha = 1/8; RTTVAR is updated with the old SRTT.
        const Duration deviation = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
        rttvar_ = (rttvar_ * 3 + deviation) / 4;
        srtt_ = (srtt_ * 7 + rtt) / 8;
        min_rtt_ = std::min(min_rtt_, rtt);
    }
    base_rto_ = clamp(srtt_ + std::max(config_.granularity, rttvar_ * 4));
    backoff_count_ = 0;
}

void RtoEstimator::on_timeout() noexcept {
    // rto() doubles lazily and stops at max_rto, so a long series of timeouts cannot overflow.
    if (backoff_count_ < UINT32_MAX) ++backoff_count_;
}

Duration RtoEstimator::rto() const noexcept {
    Duration rto = base_rto_;
    // RFC 6298 5.5: RTO <- RTO * 2 per expiry, bounded by the maximum (2.5).
    for (std::uint32_t i = 0; i < backoff_count_ && rto < config_.max_rto; ++i) rto *= 2;
    return std::min(rto, config_.max_rto);
}

}  // namespace netloom::tcp
