// A tiny ACK-clock driver for congestion-control tests: one "round" sends a window of MSS-sized
// segments and acknowledges them one by one, spread evenly across one RTT.
#pragma once

#include <chrono>
#include <cstdint>

#include "netloom/tcp_common/newreno.hpp"

namespace tcp_common_test {

/// Acks one full window in `acks_per_segment`-MSS ACKs over `rtt`, starting at `now`; returns the
/// time at the end of the round.
template <typename Cc>
std::chrono::nanoseconds run_round(Cc& cc, std::chrono::nanoseconds now,
                                   std::chrono::nanoseconds rtt,
                                   std::uint32_t segments_per_ack = 1) {
    const std::uint32_t mss = cc.window().mss();
    const std::uint32_t window = cc.window().cwnd();
    const std::uint32_t per_ack = mss * segments_per_ack;
    const std::uint32_t acks = window / per_ack;
    for (std::uint32_t i = 0; i < acks; ++i) {
        netloom::tcp::AckSample ack;
        ack.acked_bytes = per_ack;
        ack.now = now + rtt * (i + 1) / acks;
        ack.rtt = rtt;
        ack.bytes_in_flight = window - (i + 1) * per_ack;
        cc.on_ack(ack);
    }
    return now + rtt;
}

}  // namespace tcp_common_test
