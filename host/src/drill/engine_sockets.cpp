// The engine target's fd table: socket, bind, listen, accept, connect, recv, send, shutdown,
// close and poll, each following Linux's inet/TCP code paths for the errno it returns
// (net/ipv4/af_inet.c, tcp.c: the order of the checks is what a script observes).
#include "engine_sockets.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <utility>

namespace netloom::drill {

namespace {

constexpr int kSomaxconn = 4096;                 // net.core.somaxconn (Linux 5.4+)
constexpr std::uint32_t kFirstAutoPort = 32768;  // ip_local_port_range's default
constexpr std::uint32_t kLastAutoPort = 60999;

bool fin_received(TcpState state) {
    return state == TcpState::close_wait || state == TcpState::last_ack ||
           state == TcpState::closing || state == TcpState::time_wait;
}

/// Linux's sk_err for a connection that died (tcp_reset, tcp_write_err, tcp_v4_err).
int linux_errno(TcpError error, TcpState before) {
    switch (error) {
        case TcpError::refused: return ECONNREFUSED;
        // tcp_reset: a RST in CLOSE-WAIT reports EPIPE, in any other state ECONNRESET.
        case TcpError::reset: return before == TcpState::close_wait ? EPIPE : ECONNRESET;
        case TcpError::timed_out: return ETIMEDOUT;
        case TcpError::unreachable: return EHOSTUNREACH;
        case TcpError::none:
        case TcpError::aborted: return 0;  // our own close or abort sets no error
    }
    return 0;
}

CallResult bytes(std::size_t n) {
    return CallResult::ok(static_cast<std::int64_t>(n));
}

/// A data call that stops early: the bytes it moved if any, else `error`.
CallResult moved_or(std::size_t copied, int error) {
    return copied > 0 ? bytes(copied) : CallResult::fail(error);
}

}  // namespace

std::uint8_t linux_state(TcpState state) noexcept {
    switch (state) {
        case TcpState::established: return 1;
        case TcpState::syn_sent: return 2;
        case TcpState::syn_received: return 3;
        case TcpState::fin_wait_1: return 4;
        case TcpState::fin_wait_2: return 5;
        case TcpState::time_wait: return 6;
        case TcpState::closed: return 7;
        case TcpState::close_wait: return 8;
        case TcpState::last_ack: return 9;
        case TcpState::listen: return 10;
        case TcpState::closing: return 11;
    }
    return 7;
}

EngineSockets::EngineSockets(EngineStack& stack, const TargetOptions& options)
    : stack_(stack), options_(options) {}

EngineSockets::~EngineSockets() = default;

EngineSocket* EngineSockets::find(int fd) {
    auto it = fds_.find(fd);
    return it == fds_.end() ? nullptr : it->second.get();
}

bool EngineSockets::blocking(const EngineSocket& s, int flags) const {
    return !s.nonblocking && (flags & MSG_DONTWAIT) == 0;
}

TcpState EngineSockets::state_of(const EngineSocket& s) const {
    if (s.listener) return TcpState::listen;
    if (!s.connection) return TcpState::closed;
    const TcpState state = s.connection->state();
    // tcp_time_wait hands the connection to a timewait socket and closes the one the
    // application holds: the fd sees CLOSE (the engine's count still has the TIME-WAIT).
    return state == TcpState::time_wait ? TcpState::closed : state;
}

std::optional<std::uint16_t> EngineSockets::port_of(const EngineSocket& s) const {
    if (s.connection) return s.connection->local().port;
    return s.bound_port;
}

void EngineSockets::watch(TcpConnection& connection) {
    connection.on_event([this](std::uint32_t) { stack_.wake(); });
}

void EngineSockets::observe(EngineSocket& s) {
    if (!s.connection) return;
    const TcpState state = s.connection->state();
    if (fin_received(state) || s.connection->eof()) {
        s.done = true;  // tcp_fin: RCV_SHUTDOWN and SOCK_DONE
        s.rcv_shutdown = true;
    }
    if (!s.error_taken && s.connection->error() != TcpError::none) {
        s.error_taken = true;
        s.sk_err = linux_errno(s.connection->error(), s.last_open_state);
    }
    if (state == TcpState::closed || state == TcpState::time_wait) {
        s.rcv_shutdown = s.snd_shutdown = true;  // tcp_done: SHUTDOWN_MASK
    } else {
        s.last_open_state = state;
    }
}

void EngineSockets::observe_all() {
    for (auto& [fd, s] : fds_) observe(*s);
    std::erase_if(orphans_,
                  [](const Orphan& o) { return o.connection->state() == TcpState::closed; });
}

void EngineSockets::disconnect(EngineSocket& s) {
    if (s.connection) {
        s.connection->abort();
        s.connection.reset();
    }
    for (auto& c : s.ready) c->abort();  // unaccepted: a closing listener resets them
    s.ready.clear();
    s.listener.reset();
    s.rcv_shutdown = s.snd_shutdown = s.done = false;
    s.error_taken = false;
    s.last_open_state = TcpState::closed;
    s.written = 0;
    s.link = EngineSocket::Link::unconnected;
}

void EngineSockets::orphan(EngineSocket& s) {
    if (!s.connection) return;
    const std::uint16_t port = port_of(s).value_or(0);  // before the handle moves out
    if (s.connection->state() != TcpState::closed)
        orphans_.push_back({std::move(s.connection), port, s.reuseaddr});
    s.connection.reset();
}

bool EngineSockets::port_conflict(const EngineSocket& s, std::uint16_t port, bool listening) const {
    // inet_csk_bind_conflict: a listener on the port always conflicts; other sockets conflict
    // unless both set SO_REUSEADDR. Orphans (TIME-WAIT included) keep their flag.
    for (const auto& [fd, other] : fds_) {
        if (other.get() == &s || port_of(*other) != port) continue;
        if (other->listener) return true;
        if (!listening && !(s.reuseaddr && other->reuseaddr)) return true;
    }
    if (listening) return false;
    for (const Orphan& o : orphans_)
        if (o.port == port && !(s.reuseaddr && o.reuseaddr)) return true;
    return false;
}

// ---- socket, bind, listen, accept -------------------------------------------------------------

CallResult EngineSockets::socket(int domain, int type, int protocol) {
    if (domain == AF_INET6) return CallResult::not_supported("IPv6 sockets on an engine target");
    if (domain != AF_INET) return CallResult::fail(EAFNOSUPPORT);
    const int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (base < 0 || base > SOCK_PACKET) return CallResult::fail(EINVAL);
    if (base == SOCK_DGRAM || base == SOCK_RAW)
        return CallResult::not_supported("non-TCP sockets on an engine target");
    if (base != SOCK_STREAM) return CallResult::fail(ESOCKTNOSUPPORT);
    if (protocol != 0 && protocol != IPPROTO_TCP) return CallResult::fail(EPROTONOSUPPORT);
    int fd = 3;
    while (fds_.contains(fd)) ++fd;
    if (fd >= kMaxFds) return CallResult::fail(EMFILE);
    auto s = std::make_unique<EngineSocket>();
    s->fd = fd;
    s->nonblocking = (type & SOCK_NONBLOCK) != 0;
    s->cloexec = (type & SOCK_CLOEXEC) != 0;
    fds_.emplace(fd, std::move(s));
    return CallResult::ok(fd);
}

CallResult EngineSockets::bind(int fd) {
    EngineSocket* s = find(fd);
    if (!s) return CallResult::fail(EBADF);
    observe_all();
    // inet_bind: a socket that has a port (bound, listening, connected) or is not CLOSED.
    if (port_of(*s) || state_of(*s) != TcpState::closed) return CallResult::fail(EINVAL);
    if (port_conflict(*s, options_.bind_port, false)) return CallResult::fail(EADDRINUSE);
    s->bound_port = options_.bind_port;
    return CallResult::ok();
}

CallResult EngineSockets::listen(int fd, int backlog) {
    EngineSocket* s = find(fd);
    if (!s) return CallResult::fail(EBADF);
    observe_all();
    // inet_listen: only an unconnected socket in CLOSE or LISTEN.
    if (s->link != EngineSocket::Link::unconnected) return CallResult::fail(EINVAL);
    const TcpState state = state_of(*s);
    if (state != TcpState::closed && state != TcpState::listen) return CallResult::fail(EINVAL);
    // __sys_listen clamps to somaxconn (a negative backlog too, compared unsigned).
    const std::uint32_t clamped =
        static_cast<unsigned>(backlog) > kSomaxconn ? kSomaxconn : static_cast<unsigned>(backlog);
    if (s->listener) {
        if (clamped == s->backlog) return CallResult::ok();
        return CallResult::not_supported(
            "listen() again with another backlog (the engine "
            "cannot change a listener's backlog)");
    }
    if (!s->bound_port) {  // inet_autobind: a port nobody holds, from the ephemeral range
        std::uint32_t port = kFirstAutoPort;
        auto taken = [&](std::uint32_t p) {
            for (const auto& [other_fd, other] : fds_)
                if (port_of(*other) == p) return true;
            for (const Orphan& o : orphans_)
                if (o.port == p) return true;
            return false;
        };
        while (port <= kLastAutoPort && taken(port)) ++port;
        if (port > kLastAutoPort) return CallResult::fail(EADDRINUSE);
        s->bound_port = static_cast<std::uint16_t>(port);
    } else if (port_conflict(*s, *s->bound_port, true)) {
        return CallResult::fail(EADDRINUSE);
    }
    if (!stack_.built() && !stack_.explicitly_set("syn_backlog")) {
        // Linux bounds a listener's half-open requests by its backlog too (past it: SYN
        // cookies); inet_csk_reqsk_queue_is_full is `queued > backlog` since Linux 6.x.
        stack_.set("syn_backlog", std::to_string(clamped + 1));
    }
    try {
        // sk_acceptq_is_full is `queued > backlog`: Linux queues backlog + 1 connections; the
        // engines stop at `queued >= backlog`.
        s->listener = stack_.engine().listen(*s->bound_port, clamped + 1);
    } catch (const std::exception& e) {
        return CallResult::not_supported(std::string("engine refused listen: ") + e.what());
    }
    s->backlog = clamped;
    s->listener->on_acceptable([this] { stack_.wake(); });
    return CallResult::ok();
}

bool EngineSockets::listener_ready(EngineSocket& s) {
    // The listener API has no "is the queue empty" query: take one connection and keep it.
    if (s.ready.empty())
        if (auto c = s.listener->accept()) s.ready.push_back(std::move(c));
    return !s.ready.empty();
}

CallResult EngineSockets::accept(int fd) {
    EngineSocket* s = find(fd);
    if (!s) return CallResult::fail(EBADF);
    if (!s->listener) return CallResult::fail(EINVAL);
    auto take = [&]() -> std::unique_ptr<TcpConnection> {
        if (!s->ready.empty()) {
            auto c = std::move(s->ready.front());
            s->ready.pop_front();
            return c;
        }
        return s->listener->accept();
    };
    std::unique_ptr<TcpConnection> connection = take();
    if (!connection) {
        if (s->nonblocking) return CallResult::fail(EAGAIN);
        const bool ready =
            stack_.wait_for([&] { return !s->listener || listener_ready(*s); }, limit());
        if (!ready) return CallResult::not_supported("blocking call never completes");
        if (!s->listener) return CallResult::fail(EINVAL);
        connection = take();
    }
    int child_fd = 3;
    while (fds_.contains(child_fd)) ++child_fd;
    if (child_fd >= kMaxFds) return CallResult::fail(EMFILE);  // the connection is reset
    auto child = std::make_unique<EngineSocket>();
    child->fd = child_fd;
    child->link = EngineSocket::Link::connected;
    // sk_clone_lock copies the listener's options (not the file's O_NONBLOCK).
    child->reuseaddr = s->reuseaddr;
    child->nodelay = s->nodelay;
    child->linger_on = s->linger_on;
    child->linger_seconds = s->linger_seconds;
    child->rcvbuf = s->rcvbuf;
    child->sndbuf = s->sndbuf;
    child->maxseg = s->maxseg;
    child->keepalive = s->keepalive;
    child->keepidle = s->keepidle;
    child->keepintvl = s->keepintvl;
    child->keepcnt = s->keepcnt;
    child->connection = std::move(connection);
    if (child->nodelay) child->connection->set_nodelay(true);
    watch(*child->connection);
    observe(*child);
    fds_.emplace(child_fd, std::move(child));
    return CallResult::ok(child_fd);
}

// ---- connect --------------------------------------------------------------------------------

CallResult EngineSockets::connect(int fd, bool unspec) {
    EngineSocket* s = find(fd);
    if (!s) return CallResult::fail(EBADF);
    observe_all();
    if (unspec) {
        // AF_UNSPEC: tcp_disconnect in any state; a live connection is reset and reports it.
        const TcpState state = state_of(*s);
        const bool had_connection =
            s->connection && state != TcpState::closed && state != TcpState::time_wait;
        disconnect(*s);
        s->sk_err = had_connection ? ECONNRESET : s->sk_err;
        return CallResult::ok();
    }
    int err = 0;
    switch (s->link) {
        case EngineSocket::Link::disconnecting: return CallResult::fail(EINVAL);
        case EngineSocket::Link::connected: return CallResult::fail(EISCONN);
        case EngineSocket::Link::connecting: err = EALREADY; break;
        case EngineSocket::Link::unconnected: {
            if (state_of(*s) != TcpState::closed) return CallResult::fail(EISCONN);
            if (s->connection) disconnect(*s);  // an earlier attempt's dead connection
            if (options_.connect_port == 0) return CallResult::not_supported("connect to port 0");
            auto remote = wire::Ipv4Address::parse(options_.remote_ip);
            if (!remote) return CallResult::not_supported("remote address " + options_.remote_ip);
            TcpConnectOptions connect_options;
            connect_options.local_port = s->bound_port.value_or(0);
            connect_options.nodelay = s->nodelay;
            try {
                s->connection =
                    stack_.engine().connect({*remote, options_.connect_port}, connect_options);
            } catch (const std::exception&) {
                // No usable local port, or the 4-tuple is taken (inet_hash_connect).
                return CallResult::fail(EADDRNOTAVAIL);
            }
            watch(*s->connection);
            s->sk_err = 0;
            s->link = EngineSocket::Link::connecting;
            err = EINPROGRESS;
            break;
        }
    }
    observe(*s);
    auto opening = [&] {
        const TcpState state = state_of(*s);
        return state == TcpState::syn_sent || state == TcpState::syn_received;
    };
    if (opening()) {
        if (s->nonblocking) return CallResult::fail(err);
        const bool finished = stack_.wait_for(
            [&] {
                observe(*s);
                return !opening();
            },
            limit());
        if (!finished) return CallResult::not_supported("blocking call never completes");
    }
    if (state_of(*s) == TcpState::closed) {
        // sock_error: the pending error (or ECONNABORTED once it was read), then disconnect.
        const int error = s->sk_err ? s->sk_err : ECONNABORTED;
        s->sk_err = 0;
        disconnect(*s);
        return CallResult::fail(error);
    }
    s->link = EngineSocket::Link::connected;
    return CallResult::ok();
}

// ---- recv, send -------------------------------------------------------------------------------

CallResult EngineSockets::recv(int fd, std::size_t length, int flags) {
    EngineSocket* s = find(fd);
    if (!s) return CallResult::fail(EBADF);
    constexpr int kKnown = MSG_PEEK | MSG_DONTWAIT | MSG_WAITALL | MSG_NOSIGNAL;
    if (flags & MSG_OOB) return CallResult::not_supported("MSG_OOB (the engines ignore URG)");
    if (flags & ~kKnown) return CallResult::not_supported("recv flags " + std::to_string(flags));
    if (s->listener) return CallResult::fail(ENOTCONN);
    const bool peek = (flags & MSG_PEEK) != 0;
    const bool wait_all = (flags & MSG_WAITALL) != 0 && !peek;
    std::size_t copied = 0;
    std::array<std::uint8_t, 65536> buffer;
    while (true) {
        observe_all();
        if (copied >= length) return bytes(copied);
        const std::size_t available = s->connection ? s->connection->readable_bytes() : 0;
        if (available > 0) {
            std::size_t n = std::min(length - copied, available);
            if (peek) return bytes(n);
            while (n > 0) {
                const std::size_t got =
                    s->connection->recv(std::span(buffer.data(), std::min(n, buffer.size())));
                if (got == 0) break;
                copied += got;
                n -= got;
            }
            if (!wait_all || !blocking(*s, flags)) return bytes(copied);
            continue;
        }
        if (copied > 0 && !wait_all) return bytes(copied);
        // tcp_recvmsg's order once nothing is queued.
        if (copied > 0 && (s->done || s->sk_err || s->rcv_shutdown)) return bytes(copied);
        if (s->done) return CallResult::ok(0);
        if (s->sk_err) return CallResult::fail(std::exchange(s->sk_err, 0));
        if (s->rcv_shutdown) return CallResult::ok(0);
        if (state_of(*s) == TcpState::closed) return CallResult::fail(ENOTCONN);
        if (!blocking(*s, flags)) return moved_or(copied, EAGAIN);
        const bool woke = stack_.wait_for(
            [&] {
                observe(*s);
                return (s->connection && s->connection->readable_bytes() > 0) || s->done ||
                       s->sk_err || s->rcv_shutdown || state_of(*s) == TcpState::closed;
            },
            limit());
        if (!woke) return CallResult::not_supported("blocking call never completes");
    }
}

CallResult EngineSockets::send(int fd, std::size_t length, int flags) {
    EngineSocket* s = find(fd);
    if (!s) return CallResult::fail(EBADF);
    if (flags & MSG_MORE) return CallResult::not_supported("MSG_MORE (no corking in the engines)");
    if (flags & MSG_OOB) return CallResult::not_supported("MSG_OOB (the engines send no URG)");
    if (flags & MSG_FASTOPEN) return CallResult::not_supported("TCP Fast Open");
    if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL))
        return CallResult::not_supported("send flags " + std::to_string(flags));
    // sk_stream_error: EPIPE gives way to a pending error.
    auto pipe_error = [&] {
        return CallResult::fail(s->sk_err ? std::exchange(s->sk_err, 0) : EPIPE);
    };
    static const std::array<std::uint8_t, 65536> zeros{};
    std::size_t copied = 0;
    while (true) {
        observe_all();
        const TcpState state = state_of(*s);
        if (state != TcpState::established && state != TcpState::close_wait) {
            // sk_stream_wait_connect.
            if (s->sk_err) return CallResult::fail(std::exchange(s->sk_err, 0));
            if (state != TcpState::syn_sent && state != TcpState::syn_received)
                return moved_or(copied, EPIPE);
        } else if (s->sk_err || s->snd_shutdown) {
            if (copied > 0) return bytes(copied);
            return pipe_error();
        } else {
            if (copied >= length) return bytes(copied);
            std::size_t space = s->connection->send_space();
            while (space > 0 && copied < length) {
                const std::size_t n = std::min({space, length - copied, zeros.size()});
                const std::size_t taken = s->connection->send(std::span(zeros.data(), n));
                if (taken == 0) break;
                copied += taken;
                s->written += taken;
                space = s->connection->send_space();
            }
            if (copied >= length) return bytes(copied);
        }
        if (!blocking(*s, flags)) return moved_or(copied, EAGAIN);
        const bool woke = stack_.wait_for(
            [&] {
                observe(*s);
                const TcpState now = state_of(*s);
                if (now == TcpState::syn_sent || now == TcpState::syn_received) return false;
                return s->sk_err || s->snd_shutdown || !s->connection ||
                       s->connection->send_space() > 0;
            },
            limit());
        if (!woke) return CallResult::not_supported("blocking call never completes");
    }
}

// ---- shutdown, close ------------------------------------------------------------------------

CallResult EngineSockets::shutdown(int fd, int how) {
    EngineSocket* s = find(fd);
    if (!s) return CallResult::fail(EBADF);
    if (how < SHUT_RD || how > SHUT_RDWR) return CallResult::fail(EINVAL);
    observe_all();
    const bool rd = how != SHUT_WR, wr = how != SHUT_RD;
    const TcpState state = state_of(*s);
    if (s->link == EngineSocket::Link::connecting) {
        s->link = (state == TcpState::syn_sent || state == TcpState::syn_received ||
                   state == TcpState::closed)
                      ? EngineSocket::Link::disconnecting
                      : EngineSocket::Link::connected;
    }
    switch (state) {
        case TcpState::closed:  // inet_shutdown: ENOTCONN, though the bits are set
            s->rcv_shutdown |= rd;
            s->snd_shutdown |= wr;
            return CallResult::fail(ENOTCONN);
        case TcpState::listen:
            if (!rd) return CallResult::ok();
            disconnect(*s);  // stops listening
            return CallResult::ok();
        case TcpState::syn_sent:
            disconnect(*s);
            s->sk_err = ECONNRESET;  // tcp_disconnect in SYN-SENT
            return CallResult::ok();
        default: break;
    }
    s->rcv_shutdown |= rd;
    if (wr && !s->snd_shutdown) {
        s->snd_shutdown = true;
        if (state == TcpState::established || state == TcpState::syn_received ||
            state == TcpState::close_wait)
            s->connection->shutdown_write();
    }
    return CallResult::ok();
}

CallResult EngineSockets::close(int fd) {
    EngineSocket* s = find(fd);
    if (!s) return CallResult::fail(EBADF);
    observe_all();
    if (s->connection) {
        const TcpState state = state_of(*s);
        const bool open = state != TcpState::closed && state != TcpState::time_wait;
        if (s->linger_on && s->linger_seconds > 0 && !s->nonblocking && open &&
            s->connection->info().bytes_in_flight > 0)
            return CallResult::not_supported(
                "close with SO_LINGER > 0 and unacknowledged data "
                "(it would block)");
        if (s->linger_on && s->linger_seconds == 0) {
            s->connection->abort();  // tcp_close: zero linger resets
        } else {
            s->connection->close();  // FIN, or RST when unread data remains (RFC 2525 2.17)
        }
        orphan(*s);
    }
    for (auto& c : s->ready) c->abort();  // taken by poll(), still unaccepted for Linux
    fds_.erase(fd);  // a listener's handle goes: the engine resets what nobody accepted
    observe_all();
    return CallResult::ok();
}

void EngineSockets::close_all() {
    std::vector<int> fds;
    for (const auto& [fd, s] : fds_) fds.push_back(fd);
    for (int fd : fds) {
        EngineSocket& s = *fds_.at(fd);
        if (s.connection) s.connection->close();
        orphan(s);
        for (auto& c : s.ready) c->abort();
        fds_.erase(fd);
    }
    observe_all();
}

// ---- poll -----------------------------------------------------------------------------------

short EngineSockets::poll_mask(EngineSocket& s) {
    observe(s);
    if (s.listener) return listener_ready(s) ? POLLIN | POLLRDNORM : 0;
    const TcpState state = state_of(s);
    short mask = 0;
    // tcp_poll, in its order.
    if ((s.rcv_shutdown && s.snd_shutdown) || state == TcpState::closed) mask |= POLLHUP;
    if (s.rcv_shutdown) mask |= POLLIN | POLLRDNORM | POLLRDHUP;
    if (state != TcpState::syn_sent && state != TcpState::syn_received) {
        if (s.connection && s.connection->readable_bytes() > 0) mask |= POLLIN | POLLRDNORM;
        bool writable = true;
        if (!s.snd_shutdown && s.connection) {
            // __sk_stream_is_writeable: free space at least half of what is queued.
            const std::size_t space = s.connection->send_space();
            const std::size_t queued =
                stack_.effective().sndbuf > space ? stack_.effective().sndbuf - space : 0;
            writable = space > 0 && space >= queued / 2;
        }
        if (writable) mask |= POLLOUT | POLLWRNORM;
    }
    if (s.sk_err) mask |= POLLERR;
    return mask;
}

CallResult EngineSockets::poll(std::vector<PollEntry>& entries, int timeout_ms) {
    auto scan = [&] {
        observe_all();
        int ready = 0;
        for (PollEntry& e : entries) {
            e.revents = 0;
            if (e.fd < 0) continue;
            EngineSocket* s = find(e.fd);
            const short mask = s ? poll_mask(*s) : POLLNVAL;
            e.revents = static_cast<short>(mask & (e.events | POLLERR | POLLHUP | POLLNVAL));
            if (e.revents) ++ready;
        }
        return ready;
    };
    int ready = scan();
    if (ready > 0 || timeout_ms == 0) return CallResult::ok(ready);
    const std::int64_t until = timeout_ms < 0 ? limit() : stack_.now_us() + timeout_ms * 1000LL;
    const bool woke = stack_.wait_for([&] { return (ready = scan()) > 0; }, until);
    if (!woke && timeout_ms < 0) return CallResult::not_supported("blocking call never completes");
    return CallResult::ok(ready);
}

}  // namespace netloom::drill
