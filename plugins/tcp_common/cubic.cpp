// cubic.cpp — RFC 9438 CUBIC (contract in cubic.hpp).
#include "netloom/tcp_common/cubic.hpp"

#include <algorithm>
#include <cmath>

namespace netloom::tcp {

namespace {
double seconds(std::chrono::nanoseconds d) noexcept {
    return std::chrono::duration<double>(d).count();
}
}  // namespace

Cubic::Cubic(std::uint32_t mss, const CubicParams& params) noexcept
    : window_(mss), params_(params) {
    cwnd_exact_ = cwnd_segments();
}

double Cubic::cwnd_segments() const noexcept {
    return static_cast<double>(window_.cwnd()) / window_.mss();
}

double Cubic::w_cubic(double t_seconds) const noexcept {
    const double x = t_seconds - k_;
    return params_.c * x * x * x + w_max_;  // RFC 9438 eq. 1
}

void Cubic::start_epoch(std::chrono::nanoseconds now) noexcept {
    epoch_start_ = now;
    cwnd_epoch_ = cwnd_exact_;
    if (w_max_ <= cwnd_epoch_) {
        // Above the last maximum (or none known, or after an RTO, 4.8): grow from here, convex.
        w_max_ = cwnd_epoch_;
        k_ = 0;
    } else {
        k_ = std::cbrt((w_max_ - cwnd_epoch_) / params_.c);  // RFC 9438 eq. 2
    }
    w_est_ = cwnd_epoch_;  // RFC 9438 4.3
}

void Cubic::on_ack(const AckSample& ack) noexcept {
    if (ack.rtt) rtt_ = *ack.rtt;
    if (window_.in_recovery() || ack.acked_bytes == 0) return;
    if (window_.grow_slow_start(ack.acked_bytes)) {
        cwnd_exact_ = cwnd_segments();
        return;
    }
    if (!epoch_start_) start_epoch(ack.now);
    const double t = seconds(std::max(ack.now - *epoch_start_, std::chrono::nanoseconds(0)));
    const double cwnd = cwnd_exact_;
    const double acked_segments = static_cast<double>(ack.acked_bytes) / window_.mss();

    // RFC 9438 4.3: the Reno-friendly estimate, with alpha = 1 once it passed cwnd_prior.
    const double alpha_cubic = 3.0 * (1.0 - params_.beta) / (1.0 + params_.beta);
    const double alpha = w_est_ >= cwnd_prior_ ? 1.0 : alpha_cubic;
    w_est_ += alpha * acked_segments / cwnd;

    double next;
    if (w_cubic(t) < w_est_) {
        next = w_est_;  // Reno-friendly region
    } else {
        // RFC 9438 4.4/4.5: aim at W_cubic one RTT ahead, bounded to [cwnd, 1.5 cwnd].
        const double target = std::clamp(w_cubic(t + seconds(rtt_)), cwnd, 1.5 * cwnd);
        next = cwnd + (target - cwnd) / cwnd * acked_segments;
    }
    next = std::max(next, cwnd);  // congestion avoidance never shrinks the window
    cwnd_exact_ = std::min(next, static_cast<double>(CongestionWindow::kMaxWindow) / window_.mss());
    window_.set_cwnd(static_cast<std::uint64_t>(cwnd_exact_ * window_.mss()));
}

void Cubic::note_loss(std::uint32_t flight_size) noexcept {
    (void)flight_size;
    const double cwnd = cwnd_segments();
    // RFC 9438 4.7 fast convergence: a flow whose maximum dropped releases bandwidth sooner.
    if (params_.fast_convergence && cwnd < w_max_) {
        w_max_ = cwnd * (1.0 + params_.beta) / 2.0;
    } else {
        w_max_ = cwnd;
    }
    cwnd_prior_ = cwnd;
    epoch_start_.reset();  // the next epoch starts with congestion avoidance (4.2)
}

void Cubic::enter_recovery(std::uint32_t flight_size, std::chrono::nanoseconds,
                           RecoveryStyle style) noexcept {
    note_loss(flight_size);
    // RFC 9438 4.6: ssthresh = flight_size * beta_cubic, at least 2 segments.
    window_.begin_recovery(static_cast<std::uint32_t>(flight_size * params_.beta), style);
    cwnd_exact_ = cwnd_segments();
}

void Cubic::exit_recovery(std::uint32_t flight_size) noexcept {
    window_.end_recovery(flight_size);
    cwnd_exact_ = cwnd_segments();
}

void Cubic::on_rto_timeout(std::uint32_t flight_size, std::chrono::nanoseconds,
                           bool repeated) noexcept {
    std::uint32_t ssthresh = window_.ssthresh();
    if (!repeated) {
        note_loss(flight_size);
        ssthresh = static_cast<std::uint32_t>(flight_size * params_.beta);
    }
    // RFC 9438 4.8: the first epoch after a timeout uses K = 0 and W_max = cwnd at its start.
    w_max_ = 0;
    epoch_start_.reset();
    window_.collapse(ssthresh);
    cwnd_exact_ = cwnd_segments();
}

void Cubic::on_idle_restart(std::chrono::nanoseconds) noexcept {
    window_.restart_after_idle();
    cwnd_exact_ = cwnd_segments();
    // Time spent idle must not count as growth time: the next ACK starts a fresh epoch.
    epoch_start_.reset();
}

}  // namespace netloom::tcp
