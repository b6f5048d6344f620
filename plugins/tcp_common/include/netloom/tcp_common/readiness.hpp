// readiness.hpp — the events a connection's state amounts to right now, reported once when a
// user sets its on_event callback, so a callback set late (after accept(), after data or a
// FIN or an error arrived) misses nothing.
//
// Contract: pure. Error if the connection has one; readable if bytes wait or the peer's FIN
// was read up to; writable if there is send space and the handshake is done; closed if it
// ended without error.
#pragma once

#include <cstddef>
#include <cstdint>

#include "netloom/tcp.hpp"

namespace netloom::tcp {

struct ReadinessInputs {
    TcpState state = TcpState::closed;
    TcpError error = TcpError::none;
    std::size_t readable = 0;
    bool eof = false;
    std::size_t send_space = 0;
};

constexpr std::uint32_t current_readiness(const ReadinessInputs& c) noexcept {
    std::uint32_t events = 0;
    if (c.error != TcpError::none) events |= kTcpError;
    if (c.readable > 0 || c.eof) events |= kTcpReadable;
    if (c.send_space > 0 && c.state != TcpState::syn_sent && c.state != TcpState::syn_received)
        events |= kTcpWritable;
    if (c.state == TcpState::closed && c.error == TcpError::none) events |= kTcpClosed;
    return events;
}

}  // namespace netloom::tcp
