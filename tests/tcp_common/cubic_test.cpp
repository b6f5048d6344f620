// RFC 9438 CUBIC: multiplicative decrease, K, the W(t) curve, Reno-friendly region, fast
// convergence, RTO. Expected values are computed here from the RFC's formulas, not read back.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>

#include "cc_sim.hpp"
#include "netloom/tcp_common/cubic.hpp"

using namespace std::chrono_literals;
using namespace netloom::tcp;
using tcp_common_test::run_round;

namespace {
constexpr double kC = 0.4;
constexpr double kBeta = 0.7;
constexpr std::uint32_t kMss = 1000;

double rfc_w(double t, double k, double w_max) {
    return kC * std::pow(t - k, 3) + w_max;
}

double segments(const Cubic& cubic) {
    return static_cast<double>(cubic.window().cwnd()) / kMss;
}

// Slow start from IW (10 segments) for four rounds to 160 segments, then one loss with the whole
// window in flight, recovery over. Returns the time at which congestion avoidance begins.
std::chrono::nanoseconds lose_at_160(Cubic& cubic) {
    auto now = 0ns;
    for (int i = 0; i < 4; ++i) now = run_round(cubic, now, 100ms);
    REQUIRE(segments(cubic) == 160.0);
    cubic.enter_recovery(cubic.window().cwnd(), now, RecoveryStyle::sack);
    cubic.exit_recovery(cubic.window().cwnd());
    return now + 100ms;
}
}  // namespace

TEST_CASE("CUBIC loss: ssthresh = 0.7 * FlightSize, W_max = cwnd at loss", "[cubic]") {
    Cubic cubic(kMss);
    lose_at_160(cubic);
    CHECK(cubic.window().ssthresh() == 112'000);  // 0.7 * 160000
    CHECK(cubic.window().cwnd() == 112'000);
    CHECK(cubic.w_max() == Approx(160.0));
    // ssthresh never below 2 MSS.
    Cubic small(kMss);
    small.enter_recovery(1000, 0s, RecoveryStyle::sack);
    CHECK(small.window().ssthresh() == 2000);
}

TEST_CASE("CUBIC K = cbrt((W_max - cwnd_epoch) / C) once the epoch starts", "[cubic]") {
    Cubic cubic(kMss);
    const auto start = lose_at_160(cubic);
    CHECK_FALSE(cubic.epoch_started());
    cubic.on_ack({.acked_bytes = kMss, .now = start, .rtt = 100ms});
    REQUIRE(cubic.epoch_started());
    CHECK(cubic.k() == Approx(std::cbrt((160.0 - 112.0) / kC)));  // cbrt(120) ~ 4.93 s
    CHECK(cubic.w_cubic(cubic.k()) == Approx(160.0));             // the plateau is W_max
    CHECK(cubic.w_cubic(0) == Approx(112.0));                     // starts from cwnd_epoch
}

TEST_CASE("CUBIC cwnd follows the RFC 9438 W(t) curve: concave, plateau, convex", "[cubic]") {
    Cubic cubic(kMss);
    const auto rtt = 100ms;
    auto now = lose_at_160(cubic);
    const double k = std::cbrt((160.0 - 112.0) / kC);
    // The epoch starts at the first ACK of the first round: one RTT / window into it.
    const double epoch = std::chrono::duration<double>(now + rtt / 112).count();
    double previous_growth = 1e9;
    double previous = segments(cubic);
    bool checked_concave = false, checked_convex = false;
    for (int round = 1; round <= 80; ++round) {
        now = run_round(cubic, now, rtt);
        const double t = std::chrono::duration<double>(now).count() - epoch;
        const double cwnd = segments(cubic);
        INFO("t = " << t << " s, cwnd = " << cwnd << " segments");
        // cwnd aims one RTT ahead, so it lies between W(t - RTT) and W(t + RTT) (+/- 1 segment).
        CHECK(cwnd >= rfc_w(t - 0.1, k, 160.0) - 1.0);
        CHECK(cwnd <= rfc_w(t + 0.1, k, 160.0) + 1.0);
        const double growth = cwnd - previous;
        if (t < k - 0.5) {
            CHECK(cwnd < 160.0);                      // concave region: below W_max
            CHECK(growth <= previous_growth + 0.05);  // ...and slowing down
            checked_concave = true;
        } else if (t > k + 1.0) {
            CHECK(cwnd > 160.0);  // convex region: probing above W_max, accelerating
            CHECK(growth >= previous_growth - 0.05);
            checked_convex = true;
        }
        previous_growth = growth;
        previous = cwnd;
    }
    CHECK(checked_concave);
    CHECK(checked_convex);
}

TEST_CASE("CUBIC Reno-friendly region at short RTT follows W_est", "[cubic]") {
    Cubic cubic(kMss);
    auto now = lose_at_160(cubic);
    const double alpha = 3.0 * (1.0 - kBeta) / (1.0 + kBeta);
    for (int round = 0; round < 20; ++round) now = run_round(cubic, now, 1ms);
    // 20 RTTs of 1 ms: W_cubic has barely moved from 112, Reno adds ~alpha per RTT.
    const double cwnd = segments(cubic);
    CHECK(cwnd == Approx(112.0 + 20 * alpha).margin(1.0));
    CHECK(cwnd > 112.0 + 15 * alpha);
    CHECK(cubic.w_est() == Approx(cwnd).margin(1.0));
    CHECK(cubic.w_cubic(0.02) < cwnd - 5.0);
}

TEST_CASE("CUBIC fast convergence lowers W_max when a loss comes below the last one", "[cubic]") {
    for (bool fast : {true, false}) {
        CubicParams params;
        params.fast_convergence = fast;
        Cubic cubic(kMss, params);
        const auto now = lose_at_160(cubic);
        REQUIRE(segments(cubic) == 112.0);
        cubic.enter_recovery(cubic.window().cwnd(), now, RecoveryStyle::sack);  // at 112 < 160
        INFO("fast convergence " << fast);
        CHECK(cubic.w_max() == Approx(fast ? 112.0 * (1.0 + kBeta) / 2.0 : 112.0));
        CHECK(cubic.window().ssthresh() == static_cast<std::uint32_t>(112'000 * kBeta));
    }
}

TEST_CASE("CUBIC RTO: cwnd 1 MSS, ssthresh by beta, next epoch with K = 0", "[cubic]") {
    Cubic cubic(kMss);
    auto now = lose_at_160(cubic);
    cubic.on_rto_timeout(100'000, now, false);
    CHECK(cubic.window().cwnd() == kMss);
    CHECK(cubic.window().ssthresh() == 70'000);
    cubic.on_rto_timeout(1000, now + 1s, true);  // repeated: ssthresh kept
    CHECK(cubic.window().ssthresh() == 70'000);
    // Slow start back to ssthresh, then the first congestion-avoidance ACK starts an epoch.
    while (cubic.window().in_slow_start()) {
        now += 1ms;
        cubic.on_ack({.acked_bytes = kMss, .now = now, .rtt = 10ms});
    }
    CHECK(segments(cubic) == 70.0);
    cubic.on_ack({.acked_bytes = kMss, .now = now + 1ms, .rtt = 10ms});
    REQUIRE(cubic.epoch_started());
    CHECK(cubic.k() == 0.0);
    CHECK(cubic.w_max() == Approx(70.0));
}

TEST_CASE("CUBIC survives time jumps and idle restarts", "[cubic]") {
    Cubic cubic(kMss);
    auto now = lose_at_160(cubic);
    cubic.on_ack({.acked_bytes = kMss, .now = now, .rtt = 100ms});
    const double before = segments(cubic);
    cubic.on_ack({.acked_bytes = kMss, .now = now - 1h, .rtt = 100ms});  // clock went back
    CHECK(segments(cubic) >= before);
    CHECK(segments(cubic) < 1.5 * before);
    // A jump far forward: W_cubic(t + RTT) is enormous, but the target is capped at 1.5 cwnd
    // (RFC 9438 4.4), so even an ACK of a whole window grows cwnd by half at most.
    const double window = segments(cubic);
    cubic.on_ack({.acked_bytes = cubic.window().cwnd(), .now = now + 24h, .rtt = 100ms});
    CHECK(segments(cubic) == Approx(1.5 * window).margin(0.01));
    cubic.on_idle_restart(now + 25h);
    CHECK(cubic.window().cwnd() == initial_window(kMss));
    CHECK_FALSE(cubic.epoch_started());
}
