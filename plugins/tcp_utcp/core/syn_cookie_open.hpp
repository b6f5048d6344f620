// syn_cookie_open.hpp — the two rules of a listener under SYN flood (RFC 4987 3.6): answer a SYN
// with a SYN-ACK whose ISS is a cookie and keep no state, and open a connection from the ACK
// that returns it.
//
// Contract: pure like every rule. `syn_cookie_reply` returns the SYN-ACK for `syn` with ISS =
// `cookie_iss`, offering only the MSS (window scale, SACK and timestamps do not survive a cookie,
// see tcp_common/syn_cookie.hpp). `open_from_cookie` builds the ESTABLISHED TCB for an ACK whose
// cookie the shell has validated (`peer_mss` is what it encoded); the shell then delivers the
// same ACK to it with `deliver_in`, so data riding on it is queued.
#pragma once

#include "core/rules.hpp"

namespace netloom::utcp {

OutgoingSegment syn_cookie_reply(const Listener& listener, const tcp::FourTuple& tuple,
                                 const Segment& syn, SeqNum cookie_iss, Time now);

Tcb open_from_cookie(const Listener& listener, const tcp::FourTuple& tuple, const Segment& ack,
                     std::uint16_t peer_mss, Time now);

}  // namespace netloom::utcp
