// connection_entry.hpp — what the front half (front_half.hpp) keeps beside each engine's
// connection: an engine's connection type (tcp_utcp's Socket around a pure Tcb, tcp_classic's
// Pcb) derives from ConnectionEntry, so the table, listeners, TIME-WAIT count and event flush
// handle every engine's connections alike without knowing their type.
//
// Contract: plain bookkeeping, no behaviour; only the front half and its engine write it. A
// connection is shared (shared_ptr) by the table while its 4-tuple is in use, by its listener's
// accept queue until accepted, by the event flush while events wait, and by the user's handle.
#pragma once

#include <cstdint>
#include <functional>

namespace netloom::tcp {

struct Listener;

struct ConnectionEntry {
    std::function<void(std::uint32_t events)> on_event;  ///< the user's callback
    std::uint32_t pending_events = 0;                    ///< TcpEvent bits not yet delivered
    Listener* listener = nullptr;  ///< passive and not yet accepted: its listener
    bool in_flush_list = false;    ///< waits in the event flush (event_flush.hpp)
    bool user_attached = false;    ///< a TcpConnection handle exists
    bool in_table = false;         ///< findable by 4-tuple
    bool queued = false;           ///< established, in its listener's accept queue
    bool counted_open = false;     ///< counted in connections_opened
    bool in_time_wait = false;     ///< counted in the TIME-WAIT table (time_wait_table.hpp)
    bool retired = false;          ///< out of the table for good (FrontHalf::retire ran)
};

}  // namespace netloom::tcp
