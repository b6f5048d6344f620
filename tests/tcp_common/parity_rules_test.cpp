// The rules both engines take from tcp_common so they cannot differ in algorithm: PAWS with the
// 24-day rule, the engine-wide challenge-ACK budget, delayed and quick ACKs, the sender's
// maximum window for SWS avoidance, the zero-window probe and the persist timer's backoff.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>

#include "netloom/tcp_common/challenge_ack.hpp"
#include "netloom/tcp_common/paws.hpp"
#include "netloom/tcp_common/persist.hpp"
#include "netloom/tcp_common/receiver_ack.hpp"
#include "netloom/tcp_common/window.hpp"

using namespace netloom::tcp;
using namespace std::chrono_literals;

TEST_CASE("PAWS rejects an older TSval unless TS.Recent is over 24 days old (RFC 7323 5.3, 5.5)",
          "[paws]") {
    CHECK(paws_rejects(99, 100, 1s));
    CHECK_FALSE(paws_rejects(100, 100, 1s));  // equal is not older
    CHECK_FALSE(paws_rejects(101, 100, 1s));
    CHECK(paws_rejects(0xffffff00u, 0x10u, 1s));        // older across the wrap
    CHECK_FALSE(paws_rejects(0x10u, 0xffffff00u, 1s));  // newer across the wrap
    CHECK(paws_rejects(99, 100, kPawsIdleLimit));
    CHECK_FALSE(paws_rejects(99, 100, kPawsIdleLimit + 1ms));
}

TEST_CASE("the challenge-ACK budget is per second and shared by its users (RFC 5961 7)",
          "[challenge_ack]") {
    ChallengeAckLimiter limiter(3);
    const auto start = std::chrono::nanoseconds(5s);
    int allowed = 0;
    for (int i = 0; i < 10; ++i) allowed += limiter.take(start + i * 10ms) ? 1 : 0;
    CHECK(allowed == 3);
    CHECK_FALSE(limiter.take(start + 999ms));
    CHECK(limiter.take(start + 1s));  // a new window
    ChallengeAckLimiter early(1);
    CHECK(early.take(std::chrono::nanoseconds(0)));  // the first window starts at the first use
    CHECK_FALSE(early.take(std::chrono::nanoseconds(1ms)));
}

TEST_CASE("delayed ACK: every second full-sized segment, counted in bytes (RFC 5681 4.2)",
          "[delayed_ack]") {
    std::uint32_t full = kInitialFullSized;
    full = full_sized_after(full, 1460);
    CHECK(full == 1460);
    CHECK(full_sized_after(full, 100) == 1460);  // the largest payload stays
    CHECK_FALSE(delayed_ack_due(1460, full, 1460));
    CHECK(delayed_ack_due(2920, full, 1460));
    CHECK_FALSE(delayed_ack_due(1460 + 100, full, 1460));  // one full and one small: wait
    // Before anything arrived the default MSS is full-sized, bounded by the MSS we advertised.
    CHECK(delayed_ack_due(2 * 536, kInitialFullSized, 1460));
    CHECK(delayed_ack_due(200, kInitialFullSized, 100));
}

TEST_CASE("quick ACKs: a segment filling a gap and the next 16 are ACKed at once",
          "[delayed_ack]") {
    std::uint8_t quick = 0;
    CHECK_FALSE(ack_now_for_in_order_data(false, quick));
    CHECK(ack_now_for_in_order_data(true, quick));
    for (int i = 0; i < kQuickAcksAfterLoss; ++i) CHECK(ack_now_for_in_order_data(false, quick));
    CHECK_FALSE(ack_now_for_in_order_data(false, quick));
}

TEST_CASE("sender SWS: the maximum window leaves out the SYN's (RFC 9293 3.8.6.2.1)", "[window]") {
    // Before any window after the SYN, the current (the SYN's) stands in.
    CHECK(sws_max_window(0, 65535) == 65535);
    // A peer whose window is 1 KiB after a 64 KiB SYN: half of 1 KiB, so a 1 KiB send goes.
    CHECK(sws_max_window(1024, 1024) == 1024);
    CHECK(should_send_now(100'000, 1460, 1024, 0, false, true, sws_max_window(1024, 1024)));
    // A peer that offered 64 KiB after the SYN and now offers 100 bytes: still held back.
    CHECK(sws_max_window(65535, 100) == 65535);
    CHECK_FALSE(should_send_now(100'000, 1460, 100, 0, false, true, sws_max_window(65535, 100)));
}

TEST_CASE("a zero window is probed with one byte of new data (RFC 9293 3.8.6.1)", "[window]") {
    CHECK(zero_window_probe_length(5000) == 1);
    CHECK(zero_window_probe_length(0) == 0);
}

TEST_CASE("persist interval: the base RTO doubled per probe, at most max_rto (RFC 1122 4.2.2.17)",
          "[persist]") {
    RtoEstimator rto;  // before a sample the base RTO is the initial 1 s
    CHECK(persist_interval(rto, 0) == 1s);
    CHECK(persist_interval(rto, 1) == 2s);
    CHECK(persist_interval(rto, 3) == 8s);
    CHECK(persist_interval(rto, 40) == 60s);
    rto.on_timeout();  // retransmission backoff does not stretch the first probe
    CHECK(persist_interval(rto, 0) == 1s);
    rto.on_rtt_sample(10ms);
    CHECK(persist_interval(rto, 0) == 200ms);  // min_rto
    CHECK(persist_interval(rto, 2) == 800ms);
}
