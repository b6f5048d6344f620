// ephemeral_ports.hpp — the local port of an active open (RFC 6056 3.3.3, algorithm 3), and when
// such an open may take a 4-tuple that an earlier connection still holds in TIME-WAIT (RFC 6191's
// rule applied by the side in TIME-WAIT, as Linux's tcp_tw_reuse does).
//
// Contract: `EphemeralPorts::choose` walks the configured range from F(local address, remote
// address, remote port, key) plus a counter shared by every destination, asking the engine's
// `probe` about each candidate 4-tuple; it returns the first port that is free or whose
// TIME-WAIT `time_wait_reuse` allows, else nothing and the earliest time a walk could succeed
// (absent when only connections that are not in TIME-WAIT hold the range). Pure apart from the
// counter; no allocation. The engine, not this file, retires the reused TIME-WAIT connection and
// opens the new one with `reuse_iss`.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "netloom/tcp.hpp"
#include "netloom/tcp_common/isn.hpp"
#include "netloom/tcp_common/seq.hpp"
#include "netloom/tcp_common/siphash.hpp"

namespace netloom::tcp {

/// What an engine remembers of a connection in TIME-WAIT, for the reuse rule.
struct TimeWaitRecord {
    bool timestamps = false;             ///< the connection used RFC 7323 timestamps
    std::uint32_t last_tsval = 0;        ///< the last TSval it sent
    SeqNum snd_nxt;                      ///< its SND.NXT: nothing it sent lies at or beyond
    std::chrono::nanoseconds entered{};  ///< when it entered TIME-WAIT
    std::chrono::nanoseconds expires{};  ///< when its 2 MSL end
};

/// What the engine knows of one candidate 4-tuple.
struct PortCandidate {
    enum class Kind : std::uint8_t { free, busy, time_wait };
    Kind kind = Kind::free;
    TimeWaitRecord time_wait;     ///< kind == time_wait
    std::uint32_t new_tsval = 0;  ///< kind == time_wait: a new connection's TSval now
};

struct ReuseVerdict {
    bool allowed = false;
    std::chrono::nanoseconds retry_at{};  ///< when not allowed: the earliest it may become so
};

/// May a new active open take the 4-tuple of `old` (in TIME-WAIT) at `now`?
/// - Only if the old connection used timestamps: then every segment of the new one carries a
///   TSval strictly greater than any of the old one's (required here), so the peer, whether it
///   still holds the old connection (RFC 6191 2) or has a new one whose TS.Recent comes from our
///   SYN, tells old duplicates from new segments by PAWS (RFC 7323 5). Without timestamps the
///   tuple waits out its 2 MSL (RFC 9293 3.10.7.4).
/// - Only once `delay` has passed since it entered TIME-WAIT (Linux: 1 s), which also lets the
///   peer's own timestamp clock move past what its old segments carried.
ReuseVerdict time_wait_reuse(const TimeWaitRecord& old, std::uint32_t new_tsval,
                             std::chrono::nanoseconds now, std::chrono::nanoseconds delay) noexcept;

/// The ISS of a connection reusing the 4-tuple of `old_snd_nxt`'s connection: the RFC 6528 ISN
/// when it lies beyond the old sequence space and the old peer's largest unscaled window, else
/// just past them (Linux: SND.NXT + 65535 + 2), so no old duplicate can fall in the new window.
SeqNum reuse_iss(SeqNum isn, SeqNum old_snd_nxt) noexcept;

class EphemeralPorts;

/// "ENGINE: no free ephemeral port for this destination (FIRST-LAST ...)": what connect() says
/// when `choose` found nothing, with how long until a TIME-WAIT may be reused, if known.
std::string no_free_port_message(std::string_view engine, const EphemeralPorts& ports,
                                 std::optional<std::chrono::nanoseconds> retry_at,
                                 std::chrono::nanoseconds now);

class EphemeralPorts {
public:
    EphemeralPorts(std::uint16_t first, std::uint16_t last, const SipKey& key,
                   std::uint32_t counter) noexcept
        : first_(first), last_(std::max(first, last)), key_(key), counter_(counter) {}

    struct Choice {
        std::uint16_t port = 0;
        std::optional<TimeWaitRecord> reused;  ///< set when the port's TIME-WAIT is taken over
    };
    struct Result {
        std::optional<Choice> choice;                      ///< empty: no port usable now
        std::optional<std::chrono::nanoseconds> retry_at;  ///< with no choice: when to try again
    };

    /// `probe(const FourTuple&) -> PortCandidate` describes each candidate (local_port filled).
    template <class Probe>
    Result choose(FourTuple tuple, std::chrono::nanoseconds now, std::chrono::nanoseconds delay,
                  Probe&& probe) {
        const std::uint32_t range = std::uint32_t{last_} - first_ + 1u;
        const std::uint32_t offset = destination_offset(tuple);
        Result result;
        for (std::uint32_t tries = 0; tries < range; ++tries) {
            // RFC 6056 3.3.3: the counter moves on every try, for every destination.
            const auto port = static_cast<std::uint16_t>(first_ + (offset + counter_++) % range);
            tuple.local_port = port;
            const PortCandidate candidate = probe(static_cast<const FourTuple&>(tuple));
            if (candidate.kind == PortCandidate::Kind::free) {
                result.choice = Choice{port, std::nullopt};
                return result;
            }
            if (candidate.kind == PortCandidate::Kind::busy) continue;
            const ReuseVerdict verdict =
                time_wait_reuse(candidate.time_wait, candidate.new_tsval, now, delay);
            if (verdict.allowed) {
                result.choice = Choice{port, candidate.time_wait};
                return result;
            }
            result.retry_at =
                result.retry_at ? std::min(*result.retry_at, verdict.retry_at) : verdict.retry_at;
        }
        return result;
    }

    /// `choose`, but a walk that finds nothing counts it in `exhausted` and throws
    /// TcpNoFreePort (message from no_free_port_message, `retry_at` from the walk): what
    /// both engines' connect() do.
    template <class Probe>
    Choice choose_or_throw(std::string_view engine, const FourTuple& tuple,
                           std::chrono::nanoseconds now, std::chrono::nanoseconds delay,
                           Probe&& probe, std::uint64_t& exhausted) {
        Result result = choose(tuple, now, delay, std::forward<Probe>(probe));
        if (result.choice) return *result.choice;
        ++exhausted;
        throw TcpNoFreePort(no_free_port_message(engine, *this, result.retry_at, now),
                            result.retry_at);
    }

    std::uint16_t first() const noexcept { return first_; }
    std::uint16_t last() const noexcept { return last_; }

private:
    /// F(local address, remote address, remote port, key) of RFC 6056 3.3.3.
    std::uint32_t destination_offset(FourTuple tuple) const noexcept {
        tuple.local_port = 0;
        return connection_hash(tuple, key_);
    }

    std::uint16_t first_, last_;
    SipKey key_;
    std::uint32_t counter_;
};

}  // namespace netloom::tcp
