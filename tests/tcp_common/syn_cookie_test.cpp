// SYN cookies (RFC 4987 3.6 style): round trip, MSS table, expiry, 4-tuple binding, forgeries.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <random>

#include "netloom/tcp_common/syn_cookie.hpp"

using namespace std::chrono_literals;
using namespace netloom::tcp;
using netloom::wire::Ipv4Address;

namespace {
SipKey test_key() {
    SipKey key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(0xa5 ^ i);
    return key;
}
const FourTuple kCookieTuple{Ipv4Address(192, 168, 1, 1), 443, Ipv4Address(192, 168, 1, 77), 51515};
const SeqNum kPeerIsn(0xfffffff0u);
// The ACK completing the handshake: SEQ = peer ISN + 1, ACK = cookie + 1.
std::optional<std::uint16_t> complete(const SynCookies& cookies, const SynCookie& cookie,
                                      std::chrono::nanoseconds now,
                                      const FourTuple& tuple = kCookieTuple,
                                      SeqNum peer_isn = kPeerIsn) {
    return cookies.validate(tuple, peer_isn + 1, cookie.isn + 1, now);
}
}  // namespace

TEST_CASE("cookie round trip returns the MSS, rounded down to the table", "[syn_cookie]") {
    const SynCookies cookies(test_key());
    const auto now = 1000s;
    for (const auto& [peer_mss, expected] :
         std::vector<std::pair<std::uint16_t, std::uint16_t>>{{1460, 1460},
                                                              {1400, 1300},
                                                              {9000, 8960},
                                                              {65535, 8960},
                                                              {536, 536},
                                                              {64, 64},
                                                              {100, 64}}) {
        const auto cookie = cookies.encode(kCookieTuple, kPeerIsn, peer_mss, now);
        REQUIRE(cookie);
        INFO("peer MSS " << peer_mss);
        CHECK(cookie->mss == expected);
        CHECK(complete(cookies, *cookie, now + 1s) == expected);
    }
    CHECK_FALSE(cookies.encode(kCookieTuple, kPeerIsn, 63, now).has_value());
    CHECK_FALSE(cookies.encode(kCookieTuple, kPeerIsn, 0, now).has_value());
}

TEST_CASE("cookies carry the time slot and expire after two slots", "[syn_cookie]") {
    const SynCookies cookies(test_key());
    const auto issued = 64s * 1000 + 63s;  // the last second of slot 1000
    const auto cookie = cookies.encode(kCookieTuple, kPeerIsn, 1460, issued);
    REQUIRE(cookie);
    CHECK(cookie->isn.value() >> 27 == 1000 % 32);
    CHECK(complete(cookies, *cookie, issued));
    CHECK(complete(cookies, *cookie, issued + 1s));         // slot 1001: previous slot, accepted
    CHECK(complete(cookies, *cookie, issued + 64s));        // last second of slot 1001
    CHECK_FALSE(complete(cookies, *cookie, issued + 65s));  // slot 1002: expired
    // When t wraps 32 slots later, the full slot number in the hash still refuses it.
    CHECK_FALSE(complete(cookies, *cookie, issued + 64s * 32));
    CHECK_FALSE(complete(cookies, *cookie, issued - 64s));  // from the "future": refused
    // Near time zero nothing underflows.
    const auto early = cookies.encode(kCookieTuple, kPeerIsn, 1460, 0s);
    REQUIRE(early);
    CHECK(complete(cookies, *early, 10s));
}

TEST_CASE("a cookie is bound to its 4-tuple, peer ISN and key", "[syn_cookie]") {
    const SynCookies cookies(test_key());
    const auto now = 5000s;
    const auto cookie = cookies.encode(kCookieTuple, kPeerIsn, 1460, now);
    REQUIRE(cookie);
    FourTuple other = kCookieTuple;
    other.remote_port ^= 1;
    CHECK_FALSE(complete(cookies, *cookie, now, other));
    other = kCookieTuple;
    other.remote_address = Ipv4Address(192, 168, 1, 78);
    CHECK_FALSE(complete(cookies, *cookie, now, other));
    other = kCookieTuple;
    other.local_port = 8443;
    CHECK_FALSE(complete(cookies, *cookie, now, other));
    CHECK_FALSE(complete(cookies, *cookie, now, kCookieTuple, kPeerIsn + 1));
    SipKey key = test_key();
    key[3] ^= 0x10;
    CHECK_FALSE(complete(SynCookies(key), *cookie, now));
    // Tampering with the MSS bits is caught by the hash.
    SynCookie tampered = *cookie;
    tampered.isn = SeqNum(cookie->isn.value() ^ (1u << 24));
    CHECK_FALSE(complete(cookies, tampered, now));
}

TEST_CASE("random ACKs are essentially never accepted", "[syn_cookie]") {
    const SynCookies cookies(test_key());
    std::mt19937 rng(12345);
    const auto now = 64s * 777;
    int accepted = 0;
    for (int i = 0; i < 100'000; ++i) {
        FourTuple tuple = kCookieTuple;
        tuple.remote_port = static_cast<std::uint16_t>(rng());
        if (cookies.validate(tuple, SeqNum(rng()), SeqNum(rng()), now)) ++accepted;
    }
    // Expected 1e5 * 2^-28 ~ 0.0004 acceptances.
    CHECK(accepted == 0);
}
