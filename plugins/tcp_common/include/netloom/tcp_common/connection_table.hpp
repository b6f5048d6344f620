// connection_table.hpp — the connections of an engine by 4-tuple: one key type (FourTuple,
// isn.hpp) and one hash for both engines.
//
// Contract: FourTupleHash mixes the two ports and then each address through `mix_address`,
// an overload per address type: an IPv6 FourTuple adds the overload for its address (four
// 32-bit words instead of one) and the table, the hash's callers and the engines stay as they
// are. The hash is seeded per engine (from its secrets, so a remote peer cannot aim segments
// at one bucket by choosing its ports), cheap (a few multiplies: it runs once per segment)
// and not cryptographic. The table holds a shared reference to each connection.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "netloom/tcp_common/connection_entry.hpp"
#include "netloom/tcp_common/isn.hpp"

namespace netloom::tcp {

namespace hash_detail {

constexpr std::uint64_t mix(std::uint64_t h, std::uint64_t word) noexcept {
    h = (h ^ word) * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 32);
}

}  // namespace hash_detail

constexpr std::uint64_t mix_address(std::uint64_t h, const wire::Ipv4Address& address) noexcept {
    return hash_detail::mix(h, address.to_uint());
}

struct FourTupleHash {
    std::uint64_t seed = 0;

    std::size_t operator()(const FourTuple& t) const noexcept {
        std::uint64_t h =
            hash_detail::mix(seed, (std::uint64_t{t.local_port} << 16) | t.remote_port);
        h = mix_address(h, t.local_address);
        h = mix_address(h, t.remote_address);
        // Final avalanche (MurmurHash3 fmix64): the low bits pick the bucket.
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 33;
        return static_cast<std::size_t>(h);
    }
};

using ConnectionTable =
    std::unordered_map<FourTuple, std::shared_ptr<ConnectionEntry>, FourTupleHash>;

}  // namespace netloom::tcp
