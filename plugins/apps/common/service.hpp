// service.hpp — the shape the small servers (echo, discard, chargen) share: the keys port /
// transport / max_connections / idle_timeout, TcpService (an accept loop that bounds the
// connections served at once and runs a handler coroutine per connection), their counters, and
// the UDP loop of echo and discard.
//
// Contract: ServiceOptions::from_config fails with ConfigError at the key. TcpService listens in
// start() (std::runtime_error naming the service and port if it cannot) and spawns its accept
// loop and one `handler(stream)` per accepted connection in the TaskScope it is given, which
// must be destroyed before the TcpService (the handlers' frames hold streams; the accept loop
// waits on the listener). A connection over `max_connections` is reset at once and counted.
// The handler owns nothing of the stream: it gets a reference valid until it returns.
// `idle_timeout` (default 5 min, so silent peers cannot hold connection slots forever) bounds
// each wait for the peer: a read with `deadline()`, a write with write_all_idle, whose deadline
// moves whenever the peer accepts bytes (a slow but steady reader is never cut).
// `serve_udp` answers (echo) or drops (discard) every datagram on `channel` forever; the channel
// and counters must outlive the scope running it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "netloom/config.hpp"
#include "netloom/counters.hpp"
#include "netloom/scheduler.hpp"
#include "netloom/task.hpp"
#include "netloom/tcp.hpp"
#include "stream.hpp"
#include "task_scope.hpp"

namespace netloom::apps {

struct ServiceOptions {
    std::uint16_t port = 0;
    bool tcp = true;
    bool udp = false;
    std::uint32_t max_connections = 256;
    Time idle_timeout = kDefaultIdleTimeout;  ///< 0: none; else a connection idle this long is cut

    static constexpr Time kDefaultIdleTimeout = std::chrono::minutes(5);

    /// `port` (default `default_port`), `transport: tcp | udp | both` (only when `udp_allowed`;
    /// default tcp), `max_connections` (1..1000000), `idle_timeout` (a duration >= 0, default
    /// kDefaultIdleTimeout).
    static ServiceOptions from_config(const Config& config, std::uint16_t default_port,
                                      bool udp_allowed);
    /// The deadline of an operation started now: now + idle_timeout, or none.
    Time deadline(const Scheduler& scheduler) const noexcept {
        return idle_timeout > Time{0} ? scheduler.now() + idle_timeout : kNoDeadline;
    }
};

/// What the small servers count besides connections.
struct ServiceCounters {
    std::uint64_t bytes_received = 0, bytes_sent = 0;
    std::uint64_t completed = 0;  ///< connections that ended with a clean close
    std::uint64_t errors = 0;     ///< connections ended by reset, timeout of the engine...
    std::uint64_t timeouts = 0;   ///< connections cut after idle_timeout
    std::uint64_t datagrams_received = 0, datagrams_sent = 0, datagram_errors = 0;

    /// A connection stopped by `status` (neither ok nor eof): counts it and resets the stream.
    void failed(TcpStream& stream, IoStatus status);
    void visit(const CounterVisitor& visit, bool udp) const;
};

/// Closes `stream` after the peer's end of stream (waiting at most a minute for the FIN
/// exchange) and counts the connection as completed or failed.
Task<void> finish_connection(TcpStream& stream, ServiceCounters& counters, Scheduler& scheduler);

/// Echoes (`echo` true) or drops every datagram arriving on `channel`; never returns.
Task<void> serve_udp(UdpChannel& channel, ServiceCounters& counters, bool echo);

/// Binds `port` and spawns serve_udp on it in `scope`; throws std::runtime_error naming the
/// service and port when the port cannot be bound.
std::unique_ptr<UdpChannel> start_udp_service(const char* name, Scheduler& scheduler, IpLayer& ip,
                                              std::uint16_t port, TaskScope& scope,
                                              ServiceCounters& counters, bool echo);
/// "tcp, udp", "tcp" or "udp", for the start-up log line.
const char* transports_name(bool tcp, bool udp) noexcept;

class TcpService {
public:
    using Handler = std::function<Task<void>(TcpStream& stream)>;

    TcpService(std::string name, Scheduler& scheduler, TcpEngine& engine,
               const ServiceOptions& options, TaskScope& scope, Handler handler);
    void start();
    /// `connections` (accepted and served), `connections_current`, `connections_refused`.
    void visit_counters(const CounterVisitor& visit) const;
    std::uint64_t current() const noexcept { return current_; }

private:
    Task<void> accept_loop();
    Task<void> serve(TcpStream stream);

    std::string name_;
    Scheduler& scheduler_;
    TcpEngine& engine_;
    ServiceOptions options_;
    TaskScope& scope_;
    Handler handler_;
    std::unique_ptr<TcpAcceptor> acceptor_;
    std::uint64_t accepted_ = 0, refused_ = 0, current_ = 0;
};

}  // namespace netloom::apps
