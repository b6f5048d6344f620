// The app API over TcpConnection / TcpListener / UdpSocket: each operation tries the
// non-blocking call, and waits on the object's WaitList (woken by its events) until it can
// finish, fails, or its deadline passes.
#include "stream.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace netloom::apps {

std::string_view to_string(IoStatus status) noexcept {
    switch (status) {
        case IoStatus::ok: return "ok";
        case IoStatus::eof: return "eof";
        case IoStatus::deadline: return "deadline";
        case IoStatus::closed: return "closed";
        case IoStatus::reset: return "reset";
        case IoStatus::refused: return "refused";
        case IoStatus::timed_out: return "timed_out";
        case IoStatus::unreachable: return "unreachable";
        case IoStatus::aborted: return "aborted";
        case IoStatus::local_error: return "local_error";
    }
    return "?";
}

IoStatus io_status(TcpError error) noexcept {
    switch (error) {
        case TcpError::none: return IoStatus::ok;
        case TcpError::refused: return IoStatus::refused;
        case TcpError::reset: return IoStatus::reset;
        case TcpError::timed_out: return IoStatus::timed_out;
        case TcpError::unreachable: return IoStatus::unreachable;
        case TcpError::aborted: return IoStatus::aborted;
    }
    return IoStatus::aborted;
}

namespace {
bool opening(TcpState state) noexcept {
    return state == TcpState::syn_sent || state == TcpState::syn_received;
}
bool finished(TcpState state) noexcept {
    return state == TcpState::closed || state == TcpState::time_wait;
}
}  // namespace

// One wait list for readers and writers: every event wakes both, each re-checks its own
// condition. (Two lists would need a liveness check between the two wake-ups, since a woken
// reader may destroy the stream.)
struct TcpStream::Impl {
    Impl(Scheduler& sched, std::unique_ptr<TcpConnection> c)
        : connection(std::move(c)), scheduler(sched), events(sched) {
        connection->on_event([this](std::uint32_t) { events.notify_now(); });
    }
    ~Impl() { connection->on_event({}); }

    std::unique_ptr<TcpConnection> connection;
    Scheduler& scheduler;
    WaitList events;
    bool write_shut = false;
};

TcpStream::TcpStream(IoStatus why, std::string detail) : status_(why), detail_(std::move(detail)) {}
TcpStream::TcpStream(Scheduler& scheduler, std::unique_ptr<TcpConnection> connection)
    : impl_(connection ? std::make_unique<Impl>(scheduler, std::move(connection)) : nullptr),
      status_(impl_ ? IoStatus::ok : IoStatus::closed) {}
TcpStream::TcpStream(TcpStream&&) noexcept = default;
TcpStream& TcpStream::operator=(TcpStream&&) noexcept = default;
TcpStream::~TcpStream() = default;

Task<IoResult> TcpStream::read(std::span<std::uint8_t> buffer, Time deadline) {
    if (!impl_) co_return IoResult{0, IoStatus::closed};
    Impl& s = *impl_;  // stable across moves of the stream
    for (;;) {
        TcpConnection& c = *s.connection;
        if (buffer.empty()) co_return IoResult{};
        if (const std::size_t n = c.recv(buffer); n > 0) co_return IoResult{n, IoStatus::ok};
        if (c.eof()) co_return IoResult{0, IoStatus::eof};
        if (c.error() != TcpError::none) co_return IoResult{0, io_status(c.error())};
        if (c.state() == TcpState::closed) co_return IoResult{0, IoStatus::closed};
        if (!co_await s.events.wait(deadline)) co_return IoResult{0, IoStatus::deadline};
    }
}

Task<IoResult> TcpStream::read_exact(std::span<std::uint8_t> buffer, Time deadline) {
    std::size_t done = 0;
    while (done < buffer.size()) {
        IoResult r = co_await read(buffer.subspan(done), deadline);
        done += r.bytes;
        if (!r.ok()) co_return IoResult{done, r.status};
    }
    co_return IoResult{done, IoStatus::ok};
}

Task<IoResult> TcpStream::write_all(std::span<const std::uint8_t> data, Time deadline) {
    if (!impl_) co_return IoResult{0, IoStatus::closed};
    Impl& s = *impl_;
    std::size_t done = 0;
    for (;;) {
        TcpConnection& c = *s.connection;
        if (c.error() != TcpError::none) co_return IoResult{done, io_status(c.error())};
        if (s.write_shut || finished(c.state())) co_return IoResult{done, IoStatus::closed};
        if (done < data.size()) done += c.send(data.subspan(done));
        if (done == data.size()) co_return IoResult{done, IoStatus::ok};
        if (!co_await s.events.wait(deadline)) co_return IoResult{done, IoStatus::deadline};
    }
}

Task<IoResult> TcpStream::write_all_idle(std::span<const std::uint8_t> data, Time idle) {
    if (!impl_) co_return IoResult{0, IoStatus::closed};
    Impl& s = *impl_;
    const auto deadline_from_now = [&] {
        return idle > Time{0} ? s.scheduler.now() + idle : kNoDeadline;
    };
    Time deadline = deadline_from_now();
    std::size_t done = 0;
    for (;;) {
        TcpConnection& c = *s.connection;
        if (c.error() != TcpError::none) co_return IoResult{done, io_status(c.error())};
        if (s.write_shut || finished(c.state())) co_return IoResult{done, IoStatus::closed};
        if (done < data.size()) {
            if (const std::size_t n = c.send(data.subspan(done)); n > 0) {
                done += n;
                deadline = deadline_from_now();  // progress: the idle period starts again
            }
        }
        if (done == data.size()) co_return IoResult{done, IoStatus::ok};
        if (!co_await s.events.wait(deadline)) co_return IoResult{done, IoStatus::deadline};
    }
}

void TcpStream::shutdown() {
    if (!impl_ || impl_->write_shut) return;
    impl_->write_shut = true;
    impl_->connection->shutdown_write();
}

Task<IoResult> TcpStream::close(Time deadline) {
    if (!impl_) co_return IoResult{0, IoStatus::closed};
    Impl& s = *impl_;
    s.write_shut = true;
    s.connection->close();
    for (;;) {
        TcpConnection& c = *s.connection;
        if (c.error() != TcpError::none) co_return IoResult{0, io_status(c.error())};
        if (finished(c.state())) co_return IoResult{};
        if (!co_await s.events.wait(deadline)) co_return IoResult{0, IoStatus::deadline};
    }
}

WaitList::Awaiter TcpStream::wait_event(Time deadline) {
    if (!impl_) throw std::logic_error("TcpStream: no connection");
    return impl_->events.wait(deadline);
}

void TcpStream::abort() {
    if (impl_) impl_->connection->abort();
}
void TcpStream::set_nodelay(bool on) {
    if (impl_) impl_->connection->set_nodelay(on);
}
TcpInfo TcpStream::info() const {
    return impl_ ? impl_->connection->info() : TcpInfo{};
}
TcpEndpoint TcpStream::local() const {
    return impl_ ? impl_->connection->local() : TcpEndpoint{};
}
TcpEndpoint TcpStream::remote() const {
    return impl_ ? impl_->connection->remote() : TcpEndpoint{};
}
TcpConnection& TcpStream::connection() const {
    if (!impl_) throw std::logic_error("TcpStream: no connection");
    return *impl_->connection;
}

Task<TcpStream> tcp_connect(Scheduler& scheduler, TcpEngine& engine, TcpEndpoint remote,
                            Time deadline, TcpConnectOptions options) {
    std::unique_ptr<TcpConnection> connection;
    for (;;) {
        std::optional<Time> retry_at;
        std::string refusal;
        try {
            connection = engine.connect(remote, options);
            break;
        } catch (const TcpNoFreePort& e) {
            // Every port is in use or in TIME-WAIT: the engine says when one may be reused
            // (tcp_common/ephemeral_ports.hpp); wait for it rather than fail, within the deadline.
            refusal = e.what();
            retry_at = e.retry_at();
        } catch (const std::exception& e) {
            // Port 0, 4-tuple in use, max_connections: nothing was sent, nothing to wait for,
            // and nothing about the path to the peer is known (so not `unreachable`).
            co_return TcpStream(IoStatus::local_error, e.what());
        }
        if (!retry_at || *retry_at >= deadline)
            co_return TcpStream(IoStatus::local_error, std::move(refusal));
        co_await scheduler.sleep_until(std::max(*retry_at, scheduler.now()));
    }
    TcpStream stream(scheduler, std::move(connection));
    if (!stream) co_return TcpStream(IoStatus::unreachable);
    // The connected / error event ends the handshake.
    for (;;) {
        TcpConnection& c = stream.connection();
        if (c.error() != TcpError::none) co_return TcpStream(io_status(c.error()));
        if (!opening(c.state())) {
            if (c.state() == TcpState::closed) co_return TcpStream(IoStatus::closed);
            co_return stream;
        }
        if (!co_await stream.wait_event(deadline)) {
            stream.abort();
            co_return TcpStream(IoStatus::deadline);
        }
    }
}

TcpAcceptor::TcpAcceptor(Scheduler& scheduler, TcpEngine& engine, std::uint16_t port,
                         std::uint32_t backlog)
    : scheduler_(scheduler), listener_(engine.listen(port, backlog)), waiters_(scheduler) {
    listener_->on_acceptable([this] { waiters_.notify_now(); });
}

TcpAcceptor::~TcpAcceptor() {
    listener_->on_acceptable({});
}

std::uint16_t TcpAcceptor::port() const noexcept {
    return listener_->port();
}

Task<TcpStream> TcpAcceptor::accept(Time deadline) {
    for (;;) {
        if (auto connection = listener_->accept())
            co_return TcpStream(scheduler_, std::move(connection));
        if (!co_await waiters_.wait(deadline)) co_return TcpStream(IoStatus::deadline);
    }
}

UdpChannel::UdpChannel(Scheduler& scheduler, IpLayer& ip, std::uint16_t port)
    : socket_(ip.udp_bind(port)), waiters_(scheduler) {
    // May run inside the IP receive path: resume the reader on a later loop turn.
    socket_->on_readable([this] { waiters_.notify_later(); });
}

UdpChannel::~UdpChannel() {
    socket_->on_readable({});
}

std::uint16_t UdpChannel::local_port() const noexcept {
    return socket_->local_port();
}

IoStatus UdpChannel::send_to(const UdpEndpoint& to, std::span<const std::uint8_t> data) {
    switch (socket_->send_to(to, data)) {
        case IpSendStatus::sent:
        case IpSendStatus::queued: return IoStatus::ok;
        case IpSendStatus::no_route: return IoStatus::unreachable;
        case IpSendStatus::too_big:
        case IpSendStatus::dropped: return IoStatus::closed;
    }
    return IoStatus::closed;
}

Task<UdpReceiveResult> UdpChannel::receive(Time deadline) {
    for (;;) {
        if (auto datagram = socket_->receive()) {
            co_return UdpReceiveResult{std::move(datagram), IoStatus::ok};
        }
        if (auto error = socket_->take_error()) {
            // RFC 1122 3.2.2.1: port unreachable (type 3 code 3) is the UDP "refused".
            const bool port_unreachable = error->type == 3 && error->code == 3;
            co_return UdpReceiveResult{
                std::nullopt, port_unreachable ? IoStatus::refused : IoStatus::unreachable, error};
        }
        if (!co_await waiters_.wait(deadline))
            co_return UdpReceiveResult{std::nullopt, IoStatus::deadline};
    }
}

}  // namespace netloom::apps
