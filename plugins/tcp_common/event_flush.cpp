// event_flush.cpp — posted delivery of readiness events.
#include "netloom/tcp_common/event_flush.hpp"

#include <algorithm>
#include <utility>

namespace netloom::tcp {

void EventFlush::schedule(std::shared_ptr<ConnectionEntry> connection) {
    connection->in_flush_list = true;
    connections_.push_back(std::move(connection));
    post();
}

void EventFlush::notify_acceptable(Listener& listener) {
    if (listener.acceptable_pending) return;
    listener.acceptable_pending = true;
    listeners_.push_back(&listener);
    post();
}

void EventFlush::forget(Listener& listener) noexcept {
    std::erase(listeners_, &listener);
    if (flushing_listeners_)
        std::replace(flushing_listeners_->begin(), flushing_listeners_->end(), &listener,
                     static_cast<Listener*>(nullptr));
}

void EventFlush::clear() noexcept {
    for (auto& connection : connections_) connection->in_flush_list = false;
    connections_.clear();
    for (Listener* listener : listeners_) listener->acceptable_pending = false;
    listeners_.clear();
}

void EventFlush::post() {
    if (posted_) return;
    posted_ = true;
    scheduler_.post([this, alive = alive_] {
        if (*alive) flush();
    });
}

void EventFlush::flush() {
    posted_ = false;
    std::vector<Listener*> listeners;
    listeners.swap(listeners_);
    flushing_listeners_ = &listeners;
    for (Listener* listener : listeners) {
        if (!listener) continue;  // closed by an earlier callback of this batch
        listener->acceptable_pending = false;
        if (listener->on_acceptable && !listener->accept_queue.empty()) {
            auto callback = listener->on_acceptable;  // it may close this or another listener
            callback();
        }
    }
    flushing_listeners_ = nullptr;
    std::vector<std::shared_ptr<ConnectionEntry>> connections;
    connections.swap(connections_);
    for (auto& connection : connections) {
        connection->in_flush_list = false;
        const std::uint32_t events = std::exchange(connection->pending_events, 0);
        if (events && connection->user_attached && connection->on_event) {
            auto callback = connection->on_event;  // it may destroy the handle
            callback(events);
        }
    }
}

}  // namespace netloom::tcp
