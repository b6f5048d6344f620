// The small parts on their own: the ICMP token bucket and the output fragmenter.
#include <catch2/catch.hpp>
#include <chrono>

#include "fragmenter.hpp"
#include "ip_test_support.hpp"
#include "token_bucket.hpp"

using namespace netloom;
using namespace netloom::testing;
using namespace std::chrono_literals;

TEST_CASE("the token bucket allows a burst, then the rate", "[token_bucket]") {
    ip::TokenBucket bucket(10, 5);  // 10 per second, bursts of 5
    int allowed = 0;
    for (int i = 0; i < 20; ++i) allowed += bucket.take(0s) ? 1 : 0;
    CHECK(allowed == 5);
    CHECK_FALSE(bucket.take(99ms));  // 0.99 token
    CHECK(bucket.take(100ms));
    CHECK_FALSE(bucket.take(100ms));
    // A long idle period refills to the burst, never beyond, and does not overflow.
    CHECK(bucket.available(std::chrono::hours(24 * 365 * 100)) == 5);
}

TEST_CASE("a zero rate gives only the initial burst, a zero burst nothing", "[token_bucket]") {
    ip::TokenBucket no_refill(0, 2);
    CHECK(no_refill.take(0s));
    CHECK(no_refill.take(1s));
    CHECK_FALSE(no_refill.take(1000s));
    ip::TokenBucket closed(100, 0);
    CHECK_FALSE(closed.take(0s));
    CHECK_FALSE(closed.take(10s));
}

namespace {

Bytes our_datagram(std::size_t payload_size, std::uint16_t id = 77) {
    Ipv4Fields f;
    f.source = kOurIp;
    f.destination = kPeerIp;
    f.identification = id;
    return ipv4_bytes(f, pattern(payload_size));
}

}  // namespace

TEST_CASE("the fragmenter cuts 8-byte-aligned pieces that fit the MTU", "[fragmenter]") {
    const Bytes datagram = our_datagram(4000);
    ip::Fragmenter fragmenter(datagram, 1500);
    REQUIRE(fragmenter.valid());
    CHECK(fragmenter.count() == 3);

    Bytes rebuilt(4000);
    std::size_t covered = 0, pieces = 0;
    while (Packet fragment = fragmenter.next(test_checksum())) {
        ++pieces;
        CHECK(fragment.size() <= 1500);
        CHECK(fragment.headroom() >= 14);
        const auto view = wire::Ipv4View::parse(fragment.bytes());
        REQUIRE(view);
        CHECK(view->verify_checksum(test_checksum()));
        CHECK(view->identification() == 77);
        CHECK(view->source() == kOurIp);
        CHECK(view->fragment_offset() == covered);
        const auto payload = view->payload();
        const bool last = covered + payload.size() == 4000;
        CHECK(view->more_fragments() == !last);
        if (!last) CHECK(payload.size() % 8 == 0);
        std::copy(payload.begin(), payload.end(), rebuilt.begin() + covered);
        covered += payload.size();
    }
    CHECK(pieces == 3);
    CHECK(covered == 4000);
    CHECK(rebuilt == pattern(4000));
}

TEST_CASE("the fragmenter honours an input that is itself a fragment", "[fragmenter]") {
    Ipv4Fields f;
    f.fragment_offset = 800;
    f.more_fragments = true;
    const Bytes middle = ipv4_bytes(f, pattern(200));
    ip::Fragmenter fragmenter(middle, 124);  // 104 payload bytes per piece
    std::vector<std::pair<std::uint32_t, bool>> seen;
    while (Packet fragment = fragmenter.next(test_checksum())) {
        const auto view = wire::Ipv4View::parse(fragment.bytes());
        REQUIRE(view);
        seen.emplace_back(view->fragment_offset(), view->more_fragments());
    }
    REQUIRE(seen.size() == 2);
    CHECK(seen[0] == std::make_pair(800u, true));
    CHECK(seen[1] == std::make_pair(904u, true));  // still not the end of the original
}

TEST_CASE("the fragmenter refuses what it cannot cut", "[fragmenter]") {
    Ipv4Fields with_options;
    with_options.options = {1, 1, 1, 0};
    CHECK_FALSE(ip::Fragmenter(ipv4_bytes(with_options, pattern(100)), 68).valid());
    CHECK_FALSE(ip::Fragmenter(our_datagram(100), 27).valid());  // under 8 payload bytes
    const Bytes garbage(10, 0x45);
    CHECK_FALSE(ip::Fragmenter(garbage, 1500).valid());
    CHECK(ip::Fragmenter(our_datagram(100), 28).count() == 13);
}
