// udp_echo.hpp — the `udp_echo` app: a UDP echo server (RFC 862 semantics) and a client that
// sends numbered datagrams to one and checks what comes back.
//
// Contract: the server binds `port` at start(), sends every datagram it receives back to its
// sender, byte for byte, and never finishes. The client binds an ephemeral port at start(),
// sends `count` datagrams of `size` bytes, one every `interval` (without waiting for echoes),
// matches echoes to datagrams by the sequence number they carry, and finishes once each
// datagram is echoed or its `timeout` has passed: status 0 only when every echo came back
// intact. All times come from Scheduler::now(). Both run as one coroutine (in the app's
// TaskScope) awaiting UdpChannel::receive (stream.hpp), which resumes it on a later loop turn.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include <spdlog/logger.h>

#include "netloom/app.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "netloom/ip.hpp"
#include "netloom/scheduler.hpp"
#include "netloom/task.hpp"
#include "rtt_stats.hpp"
#include "stream.hpp"
#include "task_scope.hpp"

namespace netloom::apps {

struct UdpEchoOptions {
    enum class Role { server, client };
    Role role = Role::server;
    std::uint16_t port = 7;  ///< server: the port bound; client: the server's port
    // client only
    Ipv4Address target;
    std::uint32_t count = 10;
    std::uint32_t size = 64;
    Time interval = std::chrono::milliseconds(10);
    Time timeout = std::chrono::seconds(1);

    /// Largest UDP payload in one IPv4 datagram: 65535 - 20 (IP header) - 8 (UDP header).
    static constexpr std::uint32_t kMaxSize = 65507;
    /// Bytes that identify a client datagram: the magic "NLUE" and the sequence number.
    static constexpr std::uint32_t kMinSize = 8;
    static constexpr std::uint32_t kMaxCount = 10'000'000;

    /// Reads and validates the keys (does not call config.done()).
    static UdpEchoOptions from_config(const Config& config);
};

/// Fills `out` with the client's datagram number `sequence`: "NLUE", the sequence number (big
/// endian), then bytes that depend on both the sequence and the offset, so an echo that mixes
/// up two datagrams or moves bytes within one is caught.
void fill_echo_payload(std::span<std::uint8_t> out, std::uint32_t sequence) noexcept;

/// The factory behind the plugin: reads the config, calls config.done(), builds the role's app.
std::unique_ptr<App> make_udp_echo(const Config& config, Env& env);

class UdpEchoServer final : public App {
public:
    UdpEchoServer(std::uint16_t port, IpLayer& ip, Scheduler& scheduler,
                  std::shared_ptr<spdlog::logger> log);
    ~UdpEchoServer() override;

    void start(std::function<void(int status)> finished) override;
    bool finite() const noexcept override { return false; }
    void visit_counters(const CounterVisitor& visit) const override;

    std::uint16_t port() const noexcept { return port_; }

private:
    Task<void> serve();

    std::uint16_t port_;
    IpLayer& ip_;
    Scheduler& scheduler_;
    std::shared_ptr<spdlog::logger> log_;
    std::unique_ptr<UdpChannel> channel_;

    std::uint64_t received_ = 0;
    std::uint64_t received_bytes_ = 0;
    std::uint64_t echoed_ = 0;
    std::uint64_t send_failed_ = 0;
    std::uint64_t icmp_errors_ = 0;

    TaskScope scope_;  // last: destroyed first, with the coroutine, before the channel
};

class UdpEchoClient final : public App {
public:
    struct Counters {
        std::uint64_t sent = 0;         ///< accepted by the IP layer (sent or waiting for ARP)
        std::uint64_t send_failed = 0;  ///< refused by the IP layer (no route, too big, dropped)
        std::uint64_t received = 0;     ///< intact echoes within their timeout
        std::uint64_t corrupt = 0;      ///< echoes whose bytes differ from what was sent
        std::uint64_t lost = 0;         ///< no echo within the timeout
        std::uint64_t late = 0;         ///< intact echoes that came after their timeout
        std::uint64_t duplicates = 0;   ///< second and later echoes of one datagram
        std::uint64_t foreign = 0;      ///< datagrams from another address or port than target
        std::uint64_t icmp_errors = 0;  ///< ICMP errors reported on the socket
    };

    UdpEchoClient(UdpEchoOptions options, IpLayer& ip, Scheduler& scheduler,
                  std::shared_ptr<spdlog::logger> log);
    ~UdpEchoClient() override;

    void start(std::function<void(int status)> finished) override;
    bool finite() const noexcept override { return true; }
    void visit_counters(const CounterVisitor& visit) const override;

    const Counters& counters() const noexcept { return counters_; }
    const RttStats& rtt() const noexcept { return rtt_; }

private:
    enum class Fate : std::uint8_t { unsent, waiting, received, corrupt, lost, failed };

    Task<void> run();
    void send(std::uint32_t sequence, Time now);
    void take(const UdpReceiveResult& result, Time now);
    void take_echo(const UdpDatagram& datagram, Time now);
    void expire(Time now);
    int finish(Time started, Time now);

    UdpEchoOptions options_;
    IpLayer& ip_;
    Scheduler& scheduler_;
    std::shared_ptr<spdlog::logger> log_;
    std::function<void(int)> finished_;
    std::unique_ptr<UdpChannel> channel_;

    std::vector<std::uint8_t> scratch_;      // a datagram being built or the echo expected
    std::vector<Fate> fates_;                // by sequence - 1
    std::map<std::uint32_t, Time> waiting_;  // sequence -> send time, oldest first
    Counters counters_;
    RttStats rtt_;

    TaskScope scope_;  // last: destroyed first, with the coroutine, before the channel
};

}  // namespace netloom::apps
