// connection_entry.hpp — what the front half (front_half.hpp) keeps beside each engine's
// connection: an engine's connection type (tcp_utcp's Socket around a pure Tcb, tcp_classic's
// Pcb) derives from ConnectionEntry, so the table, listeners, TIME-WAIT count and event flush
// handle every engine's connections alike without knowing their type.
//
// Contract: plain bookkeeping, no behaviour; only the front half and its engine write it. A
// connection is shared (shared_ptr) by the table while its 4-tuple is in use, by its listener's
// accept queue until accepted, by the event flush while events wait, and by the user's handle.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace netloom::tcp {

struct Listener;

struct ConnectionEntry {
    std::function<void(std::uint32_t events)> on_event;  ///< the user's callback
    Listener* listener = nullptr;  ///< passive and not yet accepted: its listener
    /// Its share of the engine's memory total (FrontHalf::recharge; memory_budget.hpp).
    std::size_t memory_charged = 0;
    std::uint32_t pending_events = 0;  ///< TcpEvent bits not yet delivered
    // Flags as bit-fields: an idle connection's bytes are counted (<= 1 KiB in all).
    bool in_flush_list : 1 = false;  ///< waits in the event flush (event_flush.hpp)
    bool user_attached : 1 = false;  ///< a TcpConnection handle exists
    bool in_table : 1 = false;       ///< findable by 4-tuple
    bool queued : 1 = false;         ///< established, in its listener's accept queue
    bool counted_open : 1 = false;   ///< counted in connections_opened
    bool in_time_wait : 1 = false;   ///< counted in the TIME-WAIT table (time_wait_table.hpp)
    bool retired : 1 = false;        ///< out of the table for good (FrontHalf::retire ran)
    bool window_held : 1 = false;    ///< memory pressure kept its window shut: update owed
    bool memory_waiter : 1 = false;  ///< a send was refused at the memory limit: writable owed
};

}  // namespace netloom::tcp
