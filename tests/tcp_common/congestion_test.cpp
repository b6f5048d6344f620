// RFC 5681 / RFC 3465 / RFC 6582 / RFC 6928 behaviour of NewReno and the CongestionControl
// wrapper (factory, copies, dispatch).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>

#include "cc_sim.hpp"
#include "netloom/tcp_common/congestion.hpp"

using namespace std::chrono_literals;
using namespace netloom::tcp;
using tcp_common_test::run_round;

namespace {
// Puts a controller into congestion avoidance with cwnd = ssthresh = `segments` MSS.
template <typename Cc>
void enter_avoidance(Cc& cc, std::uint32_t segments) {
    const std::uint32_t mss = cc.window().mss();
    cc.enter_recovery(2 * segments * mss, 0s, RecoveryStyle::sack);
    cc.exit_recovery(2 * segments * mss);
}
}  // namespace

TEST_CASE("initial window per RFC 6928", "[cc]") {
    CHECK(initial_window(1460) == 14600);  // min(14600, max(2920, 14600))
    CHECK(initial_window(1000) == 10000);  // 10 MSS is below 14600
    CHECK(initial_window(9000) == 18000);  // jumbo: 2 MSS floor wins over 14600
    CHECK(initial_window(536) == 5360);
    CHECK(initial_window(1) == 10);
    NewReno reno(1460);
    CHECK(reno.window().cwnd() == 14600);
    CHECK(reno.window().ssthresh() == CongestionWindow::kInfiniteSsthresh);
    CHECK(reno.window().in_slow_start());
}

TEST_CASE("slow start doubles cwnd every RTT, with per-segment and delayed ACKs", "[cc]") {
    for (std::uint32_t per_ack : {1u, 2u}) {
        NewReno reno(1000);
        auto now = 0ns;
        for (int round = 0; round < 5; ++round) {
            const std::uint32_t before = reno.window().cwnd();
            now = run_round(reno, now, 50ms, per_ack);
            INFO("round " << round << " segments per ACK " << per_ack);
            CHECK(reno.window().cwnd() == 2 * before);
        }
    }
}

TEST_CASE("ABC limits a stretch ACK to L = 2 MSS in slow start (RFC 3465)", "[cc]") {
    NewReno reno(1000);
    const std::uint32_t before = reno.window().cwnd();
    reno.on_ack({.acked_bytes = 8000, .now = 1ms});
    CHECK(reno.window().cwnd() == before + 2000);
    reno.on_ack({.acked_bytes = 0, .now = 2ms});  // a pure window update grows nothing
    CHECK(reno.window().cwnd() == before + 2000);
}

TEST_CASE("slow start stops at ssthresh, then congestion avoidance adds 1 MSS per RTT", "[cc]") {
    NewReno reno(1000);
    enter_avoidance(reno, 20);
    CHECK(reno.window().cwnd() == 20'000);
    CHECK(reno.window().ssthresh() == 20'000);
    CHECK_FALSE(reno.window().in_slow_start());
    auto now = 0ns;
    for (int round = 1; round <= 10; ++round) {
        now = run_round(reno, now, 10ms);
        CHECK(reno.window().cwnd() == 20'000u + 1000u * round);
    }
    // Below ssthresh after an RTO, slow start stops exactly at ssthresh.
    NewReno again(1000);
    enter_avoidance(again, 8);             // ssthresh 8000
    again.on_rto_timeout(4000, 0s, true);  // repeated: ssthresh kept at 8000
    CHECK(again.window().cwnd() == 1000);
    for (int i = 0; i < 20; ++i) again.on_ack({.acked_bytes = 1000, .now = 1ms});
    CHECK(again.window().cwnd() >= 8000);
    CHECK(again.window().cwnd() < 8000 + 3000);  // linear after ssthresh, not doubling
}

TEST_CASE("loss halves: ssthresh = max(FlightSize/2, 2 MSS) (RFC 5681 eq. 4)", "[cc]") {
    NewReno reno(1000);
    reno.enter_recovery(40'000, 0s, RecoveryStyle::sack);
    CHECK(reno.window().ssthresh() == 20'000);
    CHECK(reno.window().cwnd() == 20'000);
    CHECK(reno.window().in_recovery());
    NewReno tiny(1000);
    tiny.enter_recovery(1500, 0s, RecoveryStyle::sack);
    CHECK(tiny.window().ssthresh() == 2000);
}

TEST_CASE("NewReno recovery: +3 MSS, inflation, partial-ACK deflation, exit (RFC 6582 3.2)",
          "[cc]") {
    NewReno reno(1000);
    reno.enter_recovery(40'000, 0s, RecoveryStyle::newreno);
    CHECK(reno.window().cwnd() == 23'000);  // ssthresh + 3 MSS
    reno.on_dup_ack();
    reno.on_dup_ack();
    CHECK(reno.window().cwnd() == 25'000);
    reno.on_ack({.acked_bytes = 5000, .now = 1ms});  // no growth during recovery
    CHECK(reno.window().cwnd() == 25'000);
    reno.on_partial_ack(5000);  // deflate by 5000, add back one MSS
    CHECK(reno.window().cwnd() == 21'000);
    reno.on_partial_ack(500);  // less than one MSS: no add-back
    CHECK(reno.window().cwnd() == 20'500);
    reno.exit_recovery(30'000);  // min(ssthresh, max(flight, MSS) + MSS) = ssthresh
    CHECK_FALSE(reno.window().in_recovery());
    CHECK(reno.window().cwnd() == 20'000);
    // A small flight at exit avoids a burst: cwnd = flight + MSS.
    NewReno small(1000);
    small.enter_recovery(40'000, 0s, RecoveryStyle::newreno);
    small.exit_recovery(3000);
    CHECK(small.window().cwnd() == 4000);
}

TEST_CASE("SACK-style recovery keeps cwnd at ssthresh: dup ACKs and partial ACKs do not move it",
          "[cc]") {
    NewReno reno(1000);
    reno.enter_recovery(40'000, 0s, RecoveryStyle::sack);
    reno.on_dup_ack();
    reno.on_partial_ack(3000);
    CHECK(reno.window().cwnd() == 20'000);
    reno.exit_recovery(1000);
    CHECK(reno.window().cwnd() == 20'000);
}

TEST_CASE("RTO collapses cwnd to 1 MSS with RFC 5681 eq. 4 ssthresh", "[cc]") {
    NewReno reno(1460);
    run_round(reno, 0s, 10ms);
    reno.on_rto_timeout(30'000, 1s, false);
    CHECK(reno.window().cwnd() == 1460);
    CHECK(reno.window().ssthresh() == 15'000);
    CHECK_FALSE(reno.window().in_recovery());
    reno.on_rto_timeout(1460, 2s, true);  // backed-off retransmission: ssthresh held
    CHECK(reno.window().ssthresh() == 15'000);
    reno.on_rto_timeout(1460, 3s, false);  // a new loss episode with one segment in flight
    CHECK(reno.window().ssthresh() == 2 * 1460);
}

TEST_CASE("restart after idle: cwnd = min(IW, cwnd) (RFC 5681 4.1)", "[cc]") {
    NewReno reno(1000);
    auto now = run_round(reno, 0s, 10ms);
    now = run_round(reno, now, 10ms);
    CHECK(reno.window().cwnd() == 40'000);
    reno.on_idle_restart(now + 10s);
    CHECK(reno.window().cwnd() == 10'000);
    reno.on_rto_timeout(10'000, now, false);
    reno.on_idle_restart(now + 20s);  // already below IW: unchanged
    CHECK(reno.window().cwnd() == 1000);
}

TEST_CASE("1-byte MSS and huge windows stay within bounds", "[cc]") {
    NewReno one(1);
    CHECK(one.window().cwnd() == 10);
    one.enter_recovery(1, 0s, RecoveryStyle::newreno);
    CHECK(one.window().ssthresh() == 2);
    CHECK(one.window().cwnd() == 5);
    one.exit_recovery(0);
    CHECK(one.window().cwnd() == 2);
    NewReno zero(0);  // treated as 1 byte rather than dividing by zero later
    CHECK(zero.window().mss() == 1);

    NewReno big(65'000);
    for (int i = 0; i < 100'000; ++i) {
        big.on_ack({.acked_bytes = 0xffffffffu, .now = 1ms * i});
    }
    CHECK(big.window().cwnd() == CongestionWindow::kMaxWindow);
}

TEST_CASE("factory by name, dispatch, and value semantics", "[cc]") {
    CHECK(CongestionControl::names().size() == 2);
    CHECK_FALSE(CongestionControl::create("vegas", 1460).has_value());
    CHECK_FALSE(CongestionControl::create("", 1460).has_value());
    for (std::string_view name : CongestionControl::names()) {
        auto cc = CongestionControl::create(name, 1460);
        REQUIRE(cc.has_value());
        CHECK(cc->name() == name);
        CHECK(cc->cwnd() == 14600);
        CongestionControl copy = *cc;  // the pure core copies its state
        copy.on_rto_timeout(14600, 1s);
        CHECK(copy.cwnd() == 1460);
        CHECK(cc->cwnd() == 14600);
    }
    auto cubic = CongestionControl::create("cubic", 1000);
    REQUIRE(cubic);
    CHECK(cubic->get<Cubic>() != nullptr);
    CHECK(cubic->get<NewReno>() == nullptr);
    cubic->enter_recovery(100'000, 0s, RecoveryStyle::sack);
    CHECK(cubic->in_recovery());
    CHECK(cubic->ssthresh() == 70'000);
    cubic->exit_recovery(70'000);
    CHECK(cubic->cwnd() == 70'000);
}

TEST_CASE("cwnd grows only while the window is in use (RFC 7661)", "[cc]") {
    auto cc = *CongestionControl::create(GENERATE("newreno", "cubic"), 1000);
    const std::uint32_t start = cc.cwnd();  // 10 MSS, slow start
    // Slow start: growth while cwnd < 2 x the flight before the ACK.
    CHECK(cc.window_in_use(start / 2 + 1));
    CHECK_FALSE(cc.window_in_use(start / 2));
    CHECK_FALSE(cc.window_in_use(1000));  // an app sending one segment at a time
    // An app-limited flow (one segment in flight) never grows cwnd, however many ACKs come.
    for (int i = 0; i < 1000; ++i) {
        AckSample ack;
        ack.acked_bytes = 1000;
        ack.now = std::chrono::milliseconds(i);
        ack.rtt = 1ms;
        ack.bytes_in_flight = 0;
        ack.window_in_use = cc.window_in_use(ack.bytes_in_flight + ack.acked_bytes);
        cc.on_ack(ack);
    }
    CHECK(cc.cwnd() == start);
    // Congestion avoidance: only a flight within one MSS of cwnd counts as using it.
    enter_avoidance(cc, 20);
    CHECK(cc.window_in_use(cc.cwnd() - 1000));
    CHECK_FALSE(cc.window_in_use(cc.cwnd() - 1001));
}
