// drop_reason.hpp — why the front half drops a received segment before any connection sees
// it, one reason per check of segment input (segment_input.hpp), each counted under its own
// name in the counter list (engine_counters.hpp).
//
// Contract: the order of the enumerators is the order of the checks; `counter_for` is total.
#pragma once

#include <cstdint>

#include "netloom/tcp_common/engine_counters.hpp"

namespace netloom::tcp {

enum class DropReason : std::uint8_t {
    malformed,     ///< shorter than a header, or a data offset below 5 or past the end
    bad_checksum,  ///< RFC 9293 3.1: the checksum covers the pseudo-header too
    bad_options,   ///< an option with a bad length, or one running past the header
    port_zero,     ///< source or destination port 0 (reserved, never a connection's)
    not_unicast,   ///< RFC 1122 4.2.3.10: not to our unicast address (broadcast, multicast)
    syn_fin,       ///< SYN and FIN together: RFC 9293 3.1 gives it no meaning
};

constexpr Counter counter_for(DropReason reason) noexcept {
    switch (reason) {
        case DropReason::malformed: return Counter::rx_malformed;
        case DropReason::bad_checksum: return Counter::rx_bad_checksum;
        case DropReason::bad_options: return Counter::rx_bad_options;
        case DropReason::port_zero: return Counter::rx_port_zero;
        case DropReason::not_unicast: return Counter::rx_not_unicast;
        case DropReason::syn_fin: return Counter::rx_syn_fin;
    }
    return Counter::rx_malformed;
}

}  // namespace netloom::tcp
