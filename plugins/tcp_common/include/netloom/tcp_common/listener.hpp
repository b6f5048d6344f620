// listener.hpp — one listening port: its bounds (RFC 9293 3.10.1 passive OPEN), the number of
// half-open connections it has (SYN-RECEIVED), and the accept queue of established ones.
//
// Contract: owned by the user's TcpListener handle (listener_handle.hpp), registered with the
// front half from listen() until the handle is destroyed. `half_open` counts the connections
// whose `listener` points here and that are not `queued`; `accept_queue` holds the queued
// ones in the order they were established, at most `backlog` of them.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>

#include "netloom/tcp_common/connection_entry.hpp"

namespace netloom::tcp {

struct Listener {
    std::uint16_t port = 0;
    std::uint32_t backlog = 0;      ///< completed connections waiting for accept()
    std::uint32_t syn_backlog = 0;  ///< bound on half-open connections (past it: cookies)
    std::uint32_t half_open = 0;
    std::deque<std::shared_ptr<ConnectionEntry>> accept_queue;
    std::function<void()> on_acceptable;
    bool acceptable_pending = false;  ///< waits in the event flush
};

}  // namespace netloom::tcp
