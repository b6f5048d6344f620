// listener_handle.cpp — the user's listener handle.
#include "netloom/tcp_common/listener_handle.hpp"

#include "netloom/tcp_common/front_half.hpp"

namespace netloom::tcp {

ListenerHandle::ListenerHandle(FrontHalf& engine, std::unique_ptr<Listener> listener)
    : engine_(engine), engine_alive_(engine.alive_flag()), listener_(std::move(listener)) {}

ListenerHandle::~ListenerHandle() {
    if (*engine_alive_) engine_.close_listener(*listener_);
}

std::unique_ptr<TcpConnection> ListenerHandle::accept() {
    if (!*engine_alive_) return nullptr;
    return engine_.accept_from(*listener_);
}

void ListenerHandle::on_acceptable(std::function<void()> callback) {
    listener_->on_acceptable = std::move(callback);
    if (*engine_alive_ && listener_->on_acceptable && !listener_->accept_queue.empty())
        engine_.notify_acceptable(*listener_);
}

}  // namespace netloom::tcp
