// engine_sockets.hpp — the POSIX socket API of an engine target: an fd table over TcpEngine
// connections and listeners, with Linux's numbers and errno rules.
//
// Contract: each call behaves as Linux's does for a TCP socket in the same state (the state
// model is Linux's: `sock->state`, `sk_state`, `sk_shutdown`, `sk_err`, SOCK_DONE, observed from
// the engine after every packet and loop run). fds start at 3, the lowest free one is reused,
// at most kMaxFds are open (EMFILE). Options the engine holds per engine rather than per socket
// (buffer sizes, MSS, keepalive) become engine keys while the stack is not built yet, and are
// accepted afterwards only when the engine already has that value. What the engine API cannot
// express returns CallResult::not_supported naming it. Blocking calls run the sim until they
// complete, at most kBlockingLimitUs. Handles die before the stack (the owner's member order).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine_stack.hpp"
#include "netloom/tcp.hpp"
#include "target.hpp"

namespace netloom::drill {

/// One fd: what Linux keeps in `struct socket` and `struct sock` that a script can observe.
struct EngineSocket {
    enum class Link { unconnected, connecting, connected, disconnecting };  // sock->state

    int fd = -1;
    bool nonblocking = false;
    bool cloexec = false;
    Link link = Link::unconnected;
    std::optional<std::uint16_t> bound_port;  // bind(), or the port listen() took
    std::unique_ptr<TcpListener> listener;
    std::uint32_t backlog = 0;  // as Linux keeps it (after the somaxconn clamp)
    std::deque<std::unique_ptr<TcpConnection>> ready;  // taken from the listener by poll()
    std::unique_ptr<TcpConnection> connection;

    // Linux's sk fields, kept up to date by EngineSockets::observe.
    int sk_err = 0;
    bool error_taken = false;  // the connection's TcpError became sk_err already
    bool rcv_shutdown = false, snd_shutdown = false;
    bool done = false;  // SOCK_DONE: the peer's FIN arrived
    TcpState last_open_state = TcpState::closed;
    std::uint64_t written = 0;  // bytes the application handed over (SIOCOUTQ)

    // Options as the script set them (Linux values).
    bool reuseaddr = false;
    bool nodelay = false;
    bool linger_on = false;
    int linger_seconds = 0;
    std::optional<int> rcvbuf, sndbuf, maxseg, keepalive, keepidle, keepintvl, keepcnt, syncnt;
};

class EngineSockets {
public:
    static constexpr int kMaxFds = 1024;  // Linux's default RLIMIT_NOFILE

    EngineSockets(EngineStack& stack, const TargetOptions& options);
    ~EngineSockets();
    EngineSockets(const EngineSockets&) = delete;
    EngineSockets& operator=(const EngineSockets&) = delete;

    CallResult socket(int domain, int type, int protocol);
    CallResult bind(int fd);
    CallResult listen(int fd, int backlog);
    CallResult accept(int fd);
    CallResult connect(int fd, bool unspec);
    CallResult recv(int fd, std::size_t length, int flags);
    CallResult send(int fd, std::size_t length, int flags);
    CallResult shutdown(int fd, int how);
    CallResult close(int fd);
    CallResult getsockopt(int fd, int level, int name, OptionValue& value);
    CallResult setsockopt(int fd, int level, int name, const OptionValue& value);
    CallResult fcntl(int fd, int command, std::int64_t argument);
    CallResult ioctl(int fd, unsigned long request, std::int64_t& value);
    CallResult poll(std::vector<PollEntry>& entries, int timeout_ms);
    std::optional<TcpInfoSnapshot> tcp_info(int fd);
    /// Connections in `linux_state` that this table can see; nullopt when the engine holds
    /// connections nobody accepted yet whose state it does not expose.
    std::optional<std::size_t> count(std::uint8_t linux_state);
    void close_all();
    /// Brings every socket's Linux view up to date with its connection.
    void observe_all();

private:
    struct Orphan {  // closed by the application, still alive in the engine
        std::unique_ptr<TcpConnection> connection;
        std::uint16_t port = 0;
        bool reuseaddr = false;
    };

    EngineSocket* find(int fd);
    void observe(EngineSocket& s);
    /// tcp_states.h view of the socket (listener, connection, or CLOSE).
    TcpState state_of(const EngineSocket& s) const;
    std::optional<std::uint16_t> port_of(const EngineSocket& s) const;
    bool port_conflict(const EngineSocket& s, std::uint16_t port, bool listening) const;
    void watch(TcpConnection& connection);
    /// tcp_disconnect: drops the connection, back to an unconnected socket.
    void disconnect(EngineSocket& s);
    void orphan(EngineSocket& s);
    bool listener_ready(EngineSocket& s);
    short poll_mask(EngineSocket& s);
    bool blocking(const EngineSocket& s, int flags) const;
    /// Records an engine-wide option set on socket `fd`: "" or why it cannot be applied.
    std::string engine_option(int fd, const std::string& key, const std::string& value);
    CallResult get_socket_option(EngineSocket& s, int name, OptionValue& value);
    CallResult set_socket_option(EngineSocket& s, int name, const OptionValue& value);
    CallResult get_tcp_option(EngineSocket& s, int name, OptionValue& value);
    CallResult set_tcp_option(EngineSocket& s, int name, const OptionValue& value);
    std::int64_t limit() const { return stack_.now_us() + kBlockingLimitUs; }

    EngineStack& stack_;
    TargetOptions options_;
    std::map<int, std::unique_ptr<EngineSocket>> fds_;
    std::vector<Orphan> orphans_;
    std::map<std::string, std::pair<int, std::string>> engine_options_;  // key -> (fd, value)
};

/// Linux's tcp_states.h number of a state (ESTABLISHED 1 ... CLOSING 11).
std::uint8_t linux_state(TcpState state) noexcept;

}  // namespace netloom::drill
