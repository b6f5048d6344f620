// isn.hpp — initial sequence numbers per RFC 6528 (and RFC 9293 3.4.1).
//
// Contract: ISN = M + F(local address, local port, remote address, remote port, secret key)
// mod 2^32, where M is a 4-microsecond clock derived from the `now` passed in (RFC 9293 3.4.1's
// ISN clock; it wraps every ~4.77 hours) and F is the low 32 bits of SipHash-2-4 keyed with the
// caller's secret over the 12-byte 4-tuple (addresses and ports in network byte order). The
// key must be unpredictable and per stack: the engine draws it once, from the seed of
// secret_seed.hpp (std::random_device, or a fixed per-stack value under a virtual clock).
// Pure: the same inputs give the same ISN (what makes the pure core deterministic under test).
#pragma once

#include <chrono>
#include <cstdint>

#include "netloom/tcp_common/seq.hpp"
#include "netloom/tcp_common/siphash.hpp"
#include "netloom/wire/ipv4_address.hpp"

namespace netloom::tcp {

struct FourTuple {
    wire::Ipv4Address local_address;
    std::uint16_t local_port = 0;
    wire::Ipv4Address remote_address;
    std::uint16_t remote_port = 0;
    bool operator==(const FourTuple&) const = default;
};

/// F of RFC 6528 3: the keyed hash of the connection identifiers (low 32 bits).
std::uint32_t connection_hash(const FourTuple& tuple, const SipKey& key) noexcept;

/// M of RFC 6528 3: a timer ticking every 4 microseconds, modulo 2^32.
constexpr std::uint32_t isn_clock(std::chrono::nanoseconds now) noexcept {
    return static_cast<std::uint32_t>(static_cast<std::uint64_t>(now.count()) / 4000u);
}

SeqNum generate_isn(const FourTuple& tuple, const SipKey& key,
                    std::chrono::nanoseconds now) noexcept;

}  // namespace netloom::tcp
