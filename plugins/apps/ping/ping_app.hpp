// ping_app.hpp — the `ping` app: ICMP echo requests from a stack to one address (RFC 792), the
// way iputils ping does it, reported as ping reports it.
//
// Contract: at start() the app registers for echo replies carrying its identifier, then sends
// `count` requests of `size` data bytes, one every `interval` (not waiting for replies), with
// sequence numbers 1..count. A reply counts as received when it comes from `target`, matches
// an outstanding sequence number, carries the data sent, and arrives within `timeout` of its
// request. The app finishes once every request is answered or timed out: status 0 when at
// least `expect` replies were received. One coroutine (in the app's TaskScope) does the sending
// and waits on a WaitList with the next send or timeout as its deadline; replies are booked by
// the IP layer's callback, which wakes it on a later loop turn (never inside the IP receive
// path). Times come from Scheduler::now() only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
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
#include "task_scope.hpp"
#include "wait_list.hpp"

namespace netloom::apps {

struct PingOptions {
    Ipv4Address target;
    std::uint32_t count = 5;
    Time interval = std::chrono::milliseconds(100);
    std::uint32_t size = 56;  ///< ICMP data bytes (the 8-byte ICMP header comes on top)
    Time timeout = std::chrono::seconds(1);
    std::uint32_t expect = 5;
    std::optional<std::uint16_t> identifier;  ///< empty: one per app instance, deterministic

    /// Largest echo data in one IPv4 datagram: 65535 - 20 (IP header) - 8 (ICMP header).
    static constexpr std::uint32_t kMaxSize = 65507;
    /// Sequence numbers are 16 bits; more requests would make replies ambiguous.
    static constexpr std::uint32_t kMaxCount = 65535;

    /// Reads and validates the keys (does not call config.done()).
    static PingOptions from_config(const Config& config);
};

/// The data of echo request `sequence`: bytes that depend on both the offset and the sequence.
void fill_ping_data(std::span<std::uint8_t> out, std::uint16_t sequence) noexcept;

/// The factory behind the plugin: reads the config, calls config.done(), builds the app.
std::unique_ptr<App> make_ping(const Config& config, Env& env);

class PingApp final : public App {
public:
    struct Counters {
        std::uint64_t transmitted = 0;  ///< accepted by the IP layer (sent or waiting for ARP)
        std::uint64_t send_failed = 0;  ///< refused by the IP layer
        std::uint64_t received = 0;     ///< intact replies within their timeout
        std::uint64_t lost = 0;         ///< no reply within the timeout
        std::uint64_t late = 0;         ///< intact replies after their timeout
        std::uint64_t duplicates = 0;   ///< second and later replies to one request
        std::uint64_t corrupt = 0;      ///< replies whose data differ from the request's
        std::uint64_t foreign = 0;      ///< replies with our identifier from another address
    };

    PingApp(PingOptions options, std::uint16_t identifier, IpLayer& ip, Scheduler& scheduler,
            std::shared_ptr<spdlog::logger> log);
    ~PingApp() override;

    void start(std::function<void(int status)> finished) override;
    bool finite() const noexcept override { return true; }
    void visit_counters(const CounterVisitor& visit) const override;

    std::uint16_t identifier() const noexcept { return identifier_; }
    const Counters& counters() const noexcept { return counters_; }
    const RttStats& rtt() const noexcept { return rtt_; }

private:
    enum class Fate : std::uint8_t { unsent, waiting, received, corrupt, lost, failed };

    Task<void> run();
    void send(std::uint16_t sequence, Time now);
    void on_reply(const EchoReply& reply);
    void expire(Time now);
    int finish(Time started, Time now);

    PingOptions options_;
    std::uint16_t identifier_;
    IpLayer& ip_;
    Scheduler& scheduler_;
    std::shared_ptr<spdlog::logger> log_;
    std::function<void(int)> finished_;
    bool listening_ = false;

    std::vector<std::uint8_t> scratch_;      // the data of a request being sent or checked
    std::vector<Fate> fates_;                // by sequence - 1
    std::map<std::uint16_t, Time> waiting_;  // sequence -> send time, oldest first
    Counters counters_;
    RttStats rtt_;

    WaitList replies_;  ///< notified when a reply changed what the coroutine waits for
    TaskScope scope_;   // last: destroyed first, with the coroutine
};

}  // namespace netloom::apps
