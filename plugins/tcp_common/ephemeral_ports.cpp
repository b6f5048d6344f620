// ephemeral_ports.cpp — the TIME-WAIT reuse rule and the ISS of a reusing connection (contract in
// ephemeral_ports.hpp).
#include "netloom/tcp_common/ephemeral_ports.hpp"

namespace netloom::tcp {

ReuseVerdict time_wait_reuse(const TimeWaitRecord& old, std::uint32_t new_tsval,
                             std::chrono::nanoseconds now,
                             std::chrono::nanoseconds delay) noexcept {
    if (!old.timestamps) return {false, old.expires};
    const std::chrono::nanoseconds ready = old.entered + delay;
    if (now < ready) return {false, std::min(ready, old.expires)};
    // RFC 7323 5.3's comparison: modulo 2^32, "newer" is less than 2^31 ahead.
    if (static_cast<std::int32_t>(new_tsval - old.last_tsval) <= 0) {
        // Our timestamp clock ticks every millisecond: the next tick may already do.
        return {false, std::min(now + std::chrono::milliseconds(1), old.expires)};
    }
    return {true, now};
}

SeqNum reuse_iss(SeqNum isn, SeqNum old_snd_nxt) noexcept {
    const SeqNum floor = old_snd_nxt + 65535u + 2u;
    return gt(isn, floor) ? isn : floor;
}

std::string no_free_port_message(std::string_view engine, const EphemeralPorts& ports,
                                 std::optional<std::chrono::nanoseconds> retry_at,
                                 std::chrono::nanoseconds now) {
    std::string text = std::string(engine) + ": no free ephemeral port for this destination (" +
                       std::to_string(ports.first()) + "-" + std::to_string(ports.last());
    if (!retry_at) return text + " all in use by open connections)";
    const auto wait_us = std::chrono::duration_cast<std::chrono::microseconds>(*retry_at - now);
    return text + " in use or in TIME-WAIT; one may be reused in " +
           std::to_string(wait_us.count()) + " us)";
}

}  // namespace netloom::tcp
