// SipHash-2-4 against the paper's vectors, and RFC 6528 ISN generation.
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <numeric>
#include <set>

#include "netloom/tcp_common/isn.hpp"
#include "netloom/tcp_common/siphash.hpp"

using namespace std::chrono_literals;
using namespace netloom::tcp;
using netloom::wire::Ipv4Address;

namespace {
SipKey reference_key() {
    SipKey key{};
    std::iota(key.begin(), key.end(), std::uint8_t{0});  // 00 01 .. 0f
    return key;
}
std::vector<std::uint8_t> counting(std::size_t n) {
    std::vector<std::uint8_t> bytes(n);
    std::iota(bytes.begin(), bytes.end(), std::uint8_t{0});
    return bytes;
}
const FourTuple kTuple{Ipv4Address(10, 0, 0, 2), 80, Ipv4Address(10, 0, 0, 1), 40000};
}  // namespace

TEST_CASE("SipHash-2-4 reference vectors (paper, appendix A and vectors.h)", "[siphash]") {
    const SipKey key = reference_key();
    CHECK(siphash24(key, counting(15)) == 0xa129ca6149be45e5ull);  // the paper's appendix
    CHECK(siphash24(key, counting(0)) == 0x726fdb47dd0e0e31ull);
    CHECK(siphash24(key, counting(8)) == 0x93f5f5799a932462ull);  // one full word, empty tail
}

TEST_CASE("SipHash depends on every key and message byte", "[siphash]") {
    const SipKey key = reference_key();
    const auto message = counting(21);
    const std::uint64_t base = siphash24(key, message);
    for (std::size_t i = 0; i < key.size(); ++i) {
        SipKey other = key;
        other[i] ^= 1;
        CHECK(siphash24(other, message) != base);
    }
    for (std::size_t i = 0; i < message.size(); ++i) {
        auto other = message;
        other[i] ^= 0x80;
        CHECK(siphash24(key, other) != base);
    }
    CHECK(siphash24(key, counting(20)) != base);  // length is hashed
}

TEST_CASE("ISN = 4 us clock + keyed hash of the 4-tuple (RFC 6528 3)", "[isn]") {
    const SipKey key = reference_key();
    const SeqNum at_zero = generate_isn(kTuple, key, 0ns);
    CHECK(at_zero.value() == connection_hash(kTuple, key));
    CHECK(generate_isn(kTuple, key, 4us) - at_zero == 1);
    CHECK(generate_isn(kTuple, key, 3999ns) == at_zero);  // same 4 us tick
    CHECK(generate_isn(kTuple, key, 1s) - at_zero == 250'000);
    CHECK(generate_isn(kTuple, key, 1s) == generate_isn(kTuple, key, 1s));  // deterministic
    // M wraps after 2^32 ticks (~4.77 h) and the ISN wraps with it.
    const auto wrap = std::chrono::nanoseconds(std::uint64_t{1} << 32) * 4000;
    CHECK(generate_isn(kTuple, key, wrap) == at_zero);
}

TEST_CASE("ISNs of different connections or keys are unrelated", "[isn]") {
    const SipKey key = reference_key();
    SipKey other_key = key;
    other_key[0] = 0xff;
    CHECK(connection_hash(kTuple, key) != connection_hash(kTuple, other_key));
    std::set<std::uint32_t> seen;
    for (std::uint16_t port = 40000; port < 41000; ++port) {
        FourTuple tuple = kTuple;
        tuple.remote_port = port;
        seen.insert(generate_isn(tuple, key, 5s).value());
    }
    CHECK(seen.size() == 1000);  // a collision among 1000 is ~1e-4 likely: none expected
    FourTuple swapped{kTuple.remote_address, kTuple.remote_port, kTuple.local_address,
                      kTuple.local_port};
    CHECK(connection_hash(swapped, key) != connection_hash(kTuple, key));
}
