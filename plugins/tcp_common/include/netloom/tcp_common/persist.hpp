// persist.hpp — the persist timer's interval (RFC 9293 3.8.6.1, RFC 1122 4.2.2.17), the same in
// both engines.
//
// Contract (pure): persist_interval() is the time until the next zero-window probe (or SWS
// override, RFC 9293 3.8.6.2.1) after `probes` probes went unanswered by an open window: the
// base RTO (RFC 6298, without the retransmission backoff: a zero window is not a loss, and a
// backed-off RTO would make the first probe wait for the losses before it), at least min_rto,
// doubled per probe (RFC 1122 4.2.2.17's exponential backoff), at most max_rto (RFC 6298 2.5).
#pragma once

#include <algorithm>
#include <cstdint>

#include "netloom/tcp_common/rto.hpp"

namespace netloom::tcp {

inline Duration persist_interval(const RtoEstimator& rto, std::uint32_t probes) noexcept {
    const RtoConfig& config = rto.config();
    Duration interval = std::max(rto.base_rto(), config.min_rto);
    for (std::uint32_t i = 0; i < probes && interval < config.max_rto; ++i) interval *= 2;
    return std::min(interval, config.max_rto);
}

}  // namespace netloom::tcp
