// tcp.hpp — TcpEngine: one interface for both TCP engines (tcp_utcp, tcp_classic), so apps,
// tests and benchmarks run unchanged on either (the `tcp` plugin kind).
//
// Contract: single-threaded, on the scheduler's thread; every call is non-blocking. `send`
// accepts at most the free space of the send buffer and returns how much it took; `recv` returns
// the bytes read, 0 when nothing is buffered (check `eof()` for the peer's FIN). Readiness is
// reported through the callback set with `on_event`, never from inside the call that caused it
// (events are posted), so an app may call anything from its callback. Errors are values
// (`error()`), never exceptions on the data path. A connection or listener object must be
// destroyed before its engine; destroying an open connection closes it gracefully (or resets it
// if unread data remains, RFC 9293 3.10.4 / RFC 2525 2.17).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "netloom/counters.hpp"
#include "netloom/ip.hpp"
#include "netloom/plugin.hpp"

namespace netloom {

/// RFC 9293 3.3.2 states.
enum class TcpState : std::uint8_t {
    closed,
    listen,
    syn_sent,
    syn_received,
    established,
    fin_wait_1,
    fin_wait_2,
    close_wait,
    closing,
    last_ack,
    time_wait,
};
std::string_view to_string(TcpState state) noexcept;

enum class TcpError : std::uint8_t {
    none,
    refused,      ///< RST in answer to our SYN, or ICMP port/protocol unreachable while opening
    reset,        ///< the peer reset an established connection
    timed_out,    ///< retransmissions (or keepalive probes, or connect) gave up
    unreachable,  ///< ICMP unreachable (RFC 1122 4.2.3.9) or ARP failure during connect
    aborted,      ///< aborted locally (abort(), or the engine shutting down)
};
std::string_view to_string(TcpError error) noexcept;

/// Like Linux `struct tcp_info`: a snapshot for apps, tests and the A/B harness.
struct TcpInfo {
    TcpState state = TcpState::closed;
    std::uint32_t mss = 0;       ///< effective send MSS
    std::uint32_t cwnd = 0;      ///< bytes
    std::uint32_t ssthresh = 0;  ///< bytes
    std::uint32_t srtt_us = 0;
    std::uint32_t rttvar_us = 0;
    std::uint32_t rto_us = 0;
    std::uint32_t snd_wnd = 0;  ///< peer's advertised window, scaled, bytes
    std::uint32_t rcv_wnd = 0;  ///< our advertised window, bytes
    std::uint32_t bytes_in_flight = 0;
    std::uint8_t snd_wscale = 0, rcv_wscale = 0;
    bool sack_enabled = false, timestamps_enabled = false;
    std::uint64_t bytes_sent = 0, bytes_acked = 0, bytes_received = 0;
    std::uint64_t segments_sent = 0, segments_received = 0;
    std::uint64_t retransmits = 0;       ///< segments retransmitted, all causes
    std::uint64_t fast_retransmits = 0;  ///< entries into fast recovery
    std::uint64_t sack_recoveries = 0;   ///< recoveries driven by SACK (RFC 6675)
    std::uint64_t rto_count = 0;         ///< retransmission timeouts
    std::uint64_t dup_acks_received = 0;
};

struct TcpEndpoint {
    Ipv4Address address;
    std::uint16_t port = 0;
    bool operator==(const TcpEndpoint&) const = default;
};

/// Events passed to `on_event`, as a bit set.
enum TcpEvent : std::uint32_t {
    kTcpConnected = 1u << 0,  ///< the handshake completed (active open)
    kTcpReadable = 1u << 1,   ///< data or EOF can be read
    kTcpWritable = 1u << 2,   ///< send buffer space became available
    kTcpClosed = 1u << 3,     ///< the connection reached CLOSED (or TIME_WAIT) normally
    kTcpError = 1u << 4,      ///< error() is set; the connection is dead
};

class TcpConnection {
public:
    virtual ~TcpConnection() = default;
    virtual TcpEndpoint local() const noexcept = 0;
    virtual TcpEndpoint remote() const noexcept = 0;
    virtual TcpState state() const noexcept = 0;
    virtual TcpError error() const noexcept = 0;

    virtual std::size_t send(std::span<const std::uint8_t> data) = 0;
    virtual std::size_t send_space() const noexcept = 0;
    virtual std::size_t recv(std::span<std::uint8_t> out) = 0;
    virtual std::size_t readable_bytes() const noexcept = 0;
    /// True once the peer's FIN was received and every byte before it was read.
    virtual bool eof() const noexcept = 0;

    virtual void shutdown_write() = 0;      ///< send FIN after the queued data (half-close)
    virtual void close() = 0;               ///< shutdown_write + stop reading
    virtual void abort() = 0;               ///< send RST, drop everything
    virtual void set_nodelay(bool on) = 0;  ///< disable Nagle (RFC 896) for this connection

    virtual void on_event(std::function<void(std::uint32_t events)> callback) = 0;
    virtual TcpInfo info() const = 0;
};

class TcpListener {
public:
    virtual ~TcpListener() = default;
    virtual std::uint16_t port() const noexcept = 0;
    /// A connection whose handshake completed, or null when none is waiting.
    virtual std::unique_ptr<TcpConnection> accept() = 0;
    /// Called when accept() would return a connection.
    virtual void on_acceptable(std::function<void()> callback) = 0;
};

/// Thrown by TcpEngine::connect when no local port can be had for the destination now: every
/// port of the ephemeral range is in use, or held in TIME-WAIT that may not be reused yet.
/// `retry_at` (scheduler time) is when a port may become usable; empty if none is expected to.
class TcpNoFreePort : public std::runtime_error {
public:
    TcpNoFreePort(const std::string& what, std::optional<std::chrono::nanoseconds> retry_at);
    ~TcpNoFreePort() override;  // defined in libnetloom: one type identity for every plugin
    std::optional<std::chrono::nanoseconds> retry_at() const noexcept { return retry_at_; }

private:
    std::optional<std::chrono::nanoseconds> retry_at_;
};

struct TcpConnectOptions {
    std::uint16_t local_port = 0;  ///< 0: ephemeral
    bool nodelay = false;
};

class TcpEngine : public PluginObject, public CounterSource {
public:
    /// Registers with the stack's IP layer. Called once by the host after the stack is built.
    virtual void start() = 0;
    /// `backlog`: completed connections waiting for accept (0: the engine's configured default).
    virtual std::unique_ptr<TcpListener> listen(std::uint16_t port, std::uint32_t backlog = 0) = 0;
    /// Throws TcpNoFreePort when no ephemeral port is usable now, std::exception for other
    /// local refusals (port 0, 4-tuple in use, max_connections); nothing is sent then.
    virtual std::unique_ptr<TcpConnection> connect(const TcpEndpoint& remote,
                                                   const TcpConnectOptions& options = {}) = 0;
    /// Bytes of memory currently held by the engine for connections (state + buffers in use),
    /// for the idle-connection memory benchmark.
    virtual std::size_t memory_in_use() const noexcept = 0;

    // Graceful shutdown (the host, on SIGINT/SIGTERM: docs/architecture.md). Added after the
    // others, with defaults, because an interface only grows at its end.
    /// Connections not yet CLOSED, TIME-WAIT excluded: what a graceful shutdown waits for once
    /// the apps have closed theirs.
    virtual std::size_t open_connections() const noexcept { return 0; }
    /// Resets (RFC 9293 3.10.4 ABORT: an RST, then CLOSED) every connection not yet CLOSED,
    /// TIME-WAIT excluded: the end of a shutdown whose bound passed, or of a second signal.
    virtual void abort_connections() {}
};

}  // namespace netloom
