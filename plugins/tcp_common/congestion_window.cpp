// congestion_window.cpp — shared RFC 5681/3465/6582 window arithmetic (contract in the header).
#include "netloom/tcp_common/congestion_window.hpp"

namespace netloom::tcp {

CongestionWindow::CongestionWindow(std::uint32_t mss) noexcept
    : cwnd_(initial_window(std::max<std::uint32_t>(mss, 1))),
      mss_(std::max<std::uint32_t>(mss, 1)) {}

void CongestionWindow::set_cwnd(std::uint64_t bytes) noexcept {
    cwnd_ = static_cast<std::uint32_t>(std::clamp<std::uint64_t>(bytes, mss_, kMaxWindow));
}

void CongestionWindow::set_ssthresh(std::uint64_t bytes) noexcept {
    ssthresh_ = static_cast<std::uint32_t>(
        std::clamp<std::uint64_t>(bytes, std::uint64_t{2} * mss_, kInfiniteSsthresh));
}

bool CongestionWindow::grow_slow_start(std::uint32_t acked_bytes) noexcept {
    if (!in_slow_start()) return false;
    // RFC 3465 2.2: increase by the bytes acked, at most L*SMSS per ACK (L = 2), so a stretch
    // ACK cannot cause a line-rate burst; RFC 5681 3.1 eq. 2 caps at SMSS, ABC relaxes that.
    const std::uint64_t increase = std::min<std::uint64_t>(acked_bytes, std::uint64_t{2} * mss_);
    set_cwnd(std::min<std::uint64_t>(std::uint64_t{cwnd_} + increase, ssthresh_));
    return true;
}

void CongestionWindow::grow_congestion_avoidance(std::uint32_t acked_bytes) noexcept {
    // RFC 3465 2.1: count acked bytes; each time a full cwnd's worth was acked, add one SMSS.
    std::uint64_t counted = std::uint64_t{ca_bytes_acked_} + acked_bytes;
    std::uint64_t window = cwnd_;
    while (counted >= window) {
        counted -= window;
        window = std::min<std::uint64_t>(window + mss_, kMaxWindow);
        if (window == kMaxWindow) {
            counted = 0;
            break;
        }
    }
    set_cwnd(window);
    ca_bytes_acked_ = static_cast<std::uint32_t>(counted);
}

void CongestionWindow::begin_recovery(std::uint32_t new_ssthresh, RecoveryStyle style) noexcept {
    set_ssthresh(new_ssthresh);
    style_ = style;
    in_recovery_ = true;
    ca_bytes_acked_ = 0;
    // RFC 5681 3.2 step 3: the three segments that left the network (the dup ACKs) are added
    // back; under RFC 6675 the pipe estimate accounts for them instead.
    const std::uint64_t extra = style == RecoveryStyle::newreno ? std::uint64_t{3} * mss_ : 0;
    set_cwnd(std::uint64_t{ssthresh_} + extra);
}

void CongestionWindow::inflate_on_dup_ack() noexcept {
    if (in_recovery_ && style_ == RecoveryStyle::newreno) set_cwnd(std::uint64_t{cwnd_} + mss_);
}

void CongestionWindow::deflate_on_partial_ack(std::uint32_t acked_bytes) noexcept {
    if (!in_recovery_ || style_ != RecoveryStyle::newreno) return;
    std::uint64_t window = cwnd_ > acked_bytes ? cwnd_ - acked_bytes : 0;
    if (acked_bytes >= mss_) window += mss_;
    set_cwnd(window);
}

void CongestionWindow::end_recovery(std::uint32_t flight_size) noexcept {
    if (!in_recovery_) return;
    in_recovery_ = false;
    if (style_ == RecoveryStyle::newreno) {
        const std::uint64_t after =
            std::uint64_t{std::max<std::uint32_t>(flight_size, mss_)} + mss_;
        set_cwnd(std::min<std::uint64_t>(ssthresh_, after));
    } else {
        set_cwnd(ssthresh_);
    }
}

void CongestionWindow::collapse(std::uint32_t new_ssthresh) noexcept {
    set_ssthresh(new_ssthresh);
    in_recovery_ = false;
    ca_bytes_acked_ = 0;
    set_cwnd(mss_);
}

void CongestionWindow::restart_after_idle() noexcept {
    set_cwnd(std::min(cwnd_, initial_window(mss_)));
    ca_bytes_acked_ = 0;
}

}  // namespace netloom::tcp
