// stream.hpp — the app API: C++20 coroutines over TCP connections, listeners and UDP sockets,
// written once and run on any engine (tcp_utcp, tcp_classic) and any scheduler.
//
//     TcpStream s = co_await tcp_connect(sched, tcp, {addr, 80}, sched.now() + 3s);
//     if (!s) co_return log(s.status());                    // refused, unreachable, deadline...
//     IoResult w = co_await s.write_all(request);
//     IoResult r = co_await s.read(buffer);                 // ok (bytes > 0), eof, or an error
//
// Contract: single-threaded, on the scheduler's thread. Every operation is a Task that completes
// with a value, never an exception: errors (reset, refused, timed out, unreachable), the peer's
// end of stream and an expired deadline are IoStatus values the app handles. Deadlines are
// absolute scheduler times (`sched.now() + 2s`); kNoDeadline waits forever. One reader and one
// writer may wait on a stream at the same time (full duplex). A stream must outlive the
// coroutines waiting on it; spawn coroutines through a TaskScope so destroying the app ends them.
// Destroying a stream closes it gracefully, or resets it if unread data remains (tcp.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "netloom/ip.hpp"
#include "netloom/scheduler.hpp"
#include "netloom/task.hpp"
#include "netloom/tcp.hpp"
#include "wait_list.hpp"

namespace netloom::apps {

enum class IoStatus : std::uint8_t {
    ok,
    eof,          ///< the peer closed its direction (FIN) and every byte before it was read
    deadline,     ///< the operation's deadline passed first
    closed,       ///< this side shut the direction down, or the stream holds no connection
    reset,        ///< the peer reset the connection
    refused,      ///< connect: RST in answer to the SYN, or ICMP port unreachable (UDP)
    timed_out,    ///< the engine gave up (retransmissions, keepalive)
    unreachable,  ///< ICMP unreachable, or ARP failed
    aborted,      ///< aborted locally
    local_error,  ///< connect: the engine refused locally (no free port or 4-tuple, its
                  ///< connection limit, port 0); nothing was sent; TcpStream::detail() says why
};
std::string_view to_string(IoStatus status) noexcept;
IoStatus io_status(TcpError error) noexcept;

struct IoResult {
    std::size_t bytes = 0;  ///< bytes moved before the status was reached
    IoStatus status = IoStatus::ok;
    bool ok() const noexcept { return status == IoStatus::ok; }
};

class TcpStream {
public:
    /// A stream without a connection, with the status saying why (IoStatus::closed by default)
    /// and, for local_error, the engine's message.
    explicit TcpStream(IoStatus why = IoStatus::closed, std::string detail = {});
    TcpStream(Scheduler& scheduler, std::unique_ptr<TcpConnection> connection);
    TcpStream(TcpStream&&) noexcept;
    TcpStream& operator=(TcpStream&&) noexcept;
    ~TcpStream();

    /// True when the stream holds a connection (connect/accept succeeded).
    explicit operator bool() const noexcept { return impl_ != nullptr; }
    /// Why connect/accept failed; ok for a stream holding a connection.
    IoStatus status() const noexcept { return status_; }
    /// The engine's message when connect failed locally (status local_error), else empty.
    const std::string& detail() const noexcept { return detail_; }

    /// Waits until data, the end of stream or an error: ok with bytes > 0, or eof, or an error.
    Task<IoResult> read(std::span<std::uint8_t> buffer, Time deadline = kNoDeadline);
    /// Fills `buffer` completely: ok, or the status that stopped it with the bytes read so far.
    Task<IoResult> read_exact(std::span<std::uint8_t> buffer, Time deadline = kNoDeadline);
    /// Queues every byte (waiting for send-buffer space as needed): ok, or the status that
    /// stopped it with the bytes queued so far.
    Task<IoResult> write_all(std::span<const std::uint8_t> data, Time deadline = kNoDeadline);
    /// write_all whose deadline moves with progress: it stops with `deadline` only when the
    /// engine took no byte for `idle` (a slow but steady reader is never cut); Time{0}: no limit.
    Task<IoResult> write_all_idle(std::span<const std::uint8_t> data, Time idle);
    /// Sends FIN after the queued data (half-close); reading stays possible.
    void shutdown();
    /// Closes and waits until the connection is finished (CLOSED or TIME-WAIT): ok, or the
    /// error that ended it, or deadline. Unread data makes the close a reset (RFC 9293 3.10.4).
    Task<IoResult> close(Time deadline = kNoDeadline);
    /// Resets the connection (RST) and drops everything queued.
    void abort();

    void set_nodelay(bool on);
    TcpInfo info() const;
    TcpEndpoint local() const;
    TcpEndpoint remote() const;
    /// `co_await s.wait_event(deadline)`: until the connection reports any event (true) or the
    /// deadline (false); for callers that watch connection() state this API does not cover.
    WaitList::Awaiter wait_event(Time deadline = kNoDeadline);
    /// The engine's connection, for what this API does not cover.
    TcpConnection& connection() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    IoStatus status_;
    std::string detail_;
};

/// Opens a connection: a stream holding it, or an empty stream whose status() says why
/// (refused, unreachable, timed_out, deadline; local_error with detail() when the engine could
/// not even start it).
Task<TcpStream> tcp_connect(Scheduler& scheduler, TcpEngine& engine, TcpEndpoint remote,
                            Time deadline = kNoDeadline, TcpConnectOptions options = {});

class TcpAcceptor {
public:
    /// Listens on `port` (throws what TcpEngine::listen throws, e.g. when the port is taken).
    TcpAcceptor(Scheduler& scheduler, TcpEngine& engine, std::uint16_t port,
                std::uint32_t backlog = 0);
    ~TcpAcceptor();
    TcpAcceptor(const TcpAcceptor&) = delete;
    TcpAcceptor& operator=(const TcpAcceptor&) = delete;

    /// The next completed connection, or an empty stream with status deadline.
    Task<TcpStream> accept(Time deadline = kNoDeadline);
    std::uint16_t port() const noexcept;

private:
    Scheduler& scheduler_;
    std::unique_ptr<TcpListener> listener_;
    WaitList waiters_;
};

struct UdpReceiveResult {
    std::optional<UdpDatagram> datagram;   ///< set when status is ok
    IoStatus status = IoStatus::ok;        ///< or deadline, refused / unreachable (ICMP)
    std::optional<IcmpErrorReport> error;  ///< with refused / unreachable: the ICMP report
};

class UdpChannel {
public:
    /// Binds `port` (0: ephemeral; throws std::runtime_error if taken).
    UdpChannel(Scheduler& scheduler, IpLayer& ip, std::uint16_t port = 0);
    ~UdpChannel();
    UdpChannel(const UdpChannel&) = delete;
    UdpChannel& operator=(const UdpChannel&) = delete;

    /// Sends one datagram now: ok, or unreachable (no route) / closed (dropped, too big).
    IoStatus send_to(const UdpEndpoint& to, std::span<const std::uint8_t> data);
    /// The next datagram, or the ICMP error recorded for this socket, or deadline.
    Task<UdpReceiveResult> receive(Time deadline = kNoDeadline);
    std::uint16_t local_port() const noexcept;

private:
    std::unique_ptr<UdpSocket> socket_;
    WaitList waiters_;
};

}  // namespace netloom::apps
