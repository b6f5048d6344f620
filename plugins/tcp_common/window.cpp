// window.cpp — receiver SWS avoidance, sender SWS/Nagle, window-scale choice (see window.hpp).
#include "netloom/tcp_common/window.hpp"

namespace netloom::tcp {

std::uint32_t receive_window_to_advertise(std::uint32_t free_space, std::uint32_t current_window,
                                          std::uint32_t buffer_size, std::uint32_t mss) noexcept {
    if (free_space <= current_window) return current_window;  // never shrink
    // RFC 9293 3.8.6.2.2: move the right edge only by at least min(Fr * RCV.BUFF, Eff.snd.MSS),
    // Fr = 1/2. A 0-byte MSS or buffer still lets any increase through (threshold 0).
    const std::uint32_t threshold = std::min(buffer_size / 2, mss);
    return free_space - current_window >= threshold ? free_space : current_window;
}

bool should_send_now(std::uint32_t queued, std::uint32_t mss, std::uint32_t usable_window,
                     std::uint32_t unacked, bool nodelay, bool pushing,
                     std::uint32_t max_peer_window) noexcept {
    if (queued == 0 || usable_window == 0) return false;
    const std::uint32_t sendable = std::min(queued, usable_window);
    if (sendable >= mss) return true;  // (1) a full-sized segment
    // The bracketed [SND.NXT = SND.UNA] of rules (2) and (3) is the Nagle algorithm (RFC 896).
    const bool nagle_allows = nodelay || unacked == 0;
    if (!nagle_allows) return false;
    if (pushing && queued <= usable_window) return true;            // (2) all of it, pushed
    return max_peer_window > 0 && sendable >= max_peer_window / 2;  // (3) Fs = 1/2
}

std::uint8_t choose_window_scale(std::size_t buffer_size) noexcept {
    std::uint8_t shift = 0;
    while (shift < kMaxWindowScale && (std::uint64_t{0xffff} << shift) < buffer_size) ++shift;
    return shift;
}

}  // namespace netloom::tcp
