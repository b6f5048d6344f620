// newreno.cpp — RFC 5681 / RFC 6582 congestion control (contract in newreno.hpp).
#include "netloom/tcp_common/newreno.hpp"

namespace netloom::tcp {

void NewReno::on_ack(const AckSample& ack) noexcept {
    // RFC 5681 3.2 / RFC 6582: during recovery the window follows the recovery rules only.
    if (window_.in_recovery() || ack.acked_bytes == 0) return;
    if (!window_.grow_slow_start(ack.acked_bytes)) {
        window_.grow_congestion_avoidance(ack.acked_bytes);
    }
}

void NewReno::enter_recovery(std::uint32_t flight_size, std::chrono::nanoseconds,
                             RecoveryStyle style) noexcept {
    window_.begin_recovery(reno_loss_ssthresh(flight_size, window_.mss()), style);
}

void NewReno::on_rto_timeout(std::uint32_t flight_size, std::chrono::nanoseconds,
                             bool repeated) noexcept {
    const std::uint32_t ssthresh =
        repeated ? window_.ssthresh() : reno_loss_ssthresh(flight_size, window_.mss());
    window_.collapse(ssthresh);
}

void NewReno::on_idle_restart(std::chrono::nanoseconds) noexcept {
    window_.restart_after_idle();
}

}  // namespace netloom::tcp
