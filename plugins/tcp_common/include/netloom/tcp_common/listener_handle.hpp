// listener_handle.hpp — the user's TcpListener on either engine: it owns its Listener and
// reaches the engine through FrontHalf.
//
// Contract: as tcp.hpp. Destroying it stops listening and resets the connections nobody
// accepted. It may outlive the engine: every call is then a harmless no-op (accept() returns
// null).
#pragma once

#include <functional>
#include <memory>

#include "netloom/tcp.hpp"
#include "netloom/tcp_common/listener.hpp"

namespace netloom::tcp {

class FrontHalf;

class ListenerHandle final : public TcpListener {
public:
    ListenerHandle(FrontHalf& engine, std::unique_ptr<Listener> listener);
    ~ListenerHandle() override;
    std::uint16_t port() const noexcept override { return listener_->port; }
    std::unique_ptr<TcpConnection> accept() override;
    void on_acceptable(std::function<void()> callback) override;

private:
    FrontHalf& engine_;
    std::shared_ptr<bool> engine_alive_;
    std::unique_ptr<Listener> listener_;
};

}  // namespace netloom::tcp
