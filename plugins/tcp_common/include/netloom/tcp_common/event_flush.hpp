// event_flush.hpp — delivery of readiness events to the user, posted: an engine queues the
// events a call caused, and the callbacks run from one scheduler post per loop turn, never
// from inside that call (netloom/tcp.hpp's contract), so a callback may call anything.
//
// Contract: `queue` (or `add` then `schedule`) ORs events into a connection's pending set and,
// if a user handle is attached, schedules it (once per flush); `notify_acceptable` schedules a
// listener's on_acceptable (once per flush). A flush delivers listeners first, then connections,
// each with its pending bits cleared before its callback runs. A callback may destroy any handle or
// listener: `forget` (called when a listener closes) takes it out of the flush in progress
// too. Nothing runs after the EventFlush is destroyed (the posted task checks a shared flag).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "netloom/scheduler.hpp"
#include "netloom/tcp_common/connection_entry.hpp"
#include "netloom/tcp_common/listener.hpp"

namespace netloom::tcp {

class EventFlush {
public:
    explicit EventFlush(Scheduler& scheduler) : scheduler_(scheduler) {}
    ~EventFlush() { *alive_ = false; }
    EventFlush(const EventFlush&) = delete;
    EventFlush& operator=(const EventFlush&) = delete;

    void queue(const std::shared_ptr<ConnectionEntry>& connection, std::uint32_t events) {
        if (add(*connection, events)) schedule(connection);
    }
    /// `queue` in two steps, for a caller that holds only a reference: ORs `events` in and
    /// says whether the connection must now be handed to `schedule`.
    bool add(ConnectionEntry& connection, std::uint32_t events) noexcept {
        connection.pending_events |= events;
        // Without a handle nobody listens: the bits wait, and a handle's on_event() reports
        // the readiness of the moment anyway.
        return !connection.in_flush_list && connection.user_attached;
    }
    void schedule(std::shared_ptr<ConnectionEntry> connection);
    void notify_acceptable(Listener& listener);
    /// The listener is going away: it is no longer delivered to.
    void forget(Listener& listener) noexcept;
    /// Drops every pending delivery (the engine is shutting down).
    void clear() noexcept;

private:
    void post();
    void flush();

    Scheduler& scheduler_;
    std::vector<std::shared_ptr<ConnectionEntry>> connections_;
    std::vector<Listener*> listeners_;
    /// The listeners of the flush in progress: forget() nulls its entry there.
    std::vector<Listener*>* flushing_listeners_ = nullptr;
    bool posted_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace netloom::tcp
