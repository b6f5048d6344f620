// RFC 6298 retransmission timeout estimator and Karn's rule.
#include <catch2/catch.hpp>

#include <chrono>

#include "netloom/tcp_common/rto.hpp"

using namespace std::chrono_literals;
using netloom::tcp::Duration;
using netloom::tcp::RtoConfig;
using netloom::tcp::RtoEstimator;

namespace {
RtoConfig rfc_config() {
    RtoConfig config;
    config.min_rto = 1s;  // strict RFC 6298 2.4
    return config;
}
}  // namespace

TEST_CASE("before any sample the RTO is the initial one (RFC 6298 2.1)", "[rto]") {
    RtoEstimator rto;
    CHECK_FALSE(rto.has_sample());
    CHECK(rto.rto() == 1s);
    CHECK(rto.backoff_count() == 0);
}

TEST_CASE("first sample: SRTT = R, RTTVAR = R/2 (RFC 6298 2.2)", "[rto]") {
    RtoConfig config;
    config.min_rto = 0ms;
    RtoEstimator rto(config);
    rto.on_rtt_sample(100ms);
    CHECK(rto.srtt() == 100ms);
    CHECK(rto.rttvar() == 50ms);
    CHECK(rto.rto() == 100ms + 4 * 50ms);
}

TEST_CASE("later samples: beta 1/4 on RTTVAR with the old SRTT, alpha 1/8", "[rto]") {
    RtoConfig config;
    config.min_rto = 0ms;
    RtoEstimator rto(config);
    rto.on_rtt_sample(100ms);
    rto.on_rtt_sample(200ms);
    // Independently: RTTVAR = 3/4*50 + 1/4*|100-200| = 62.5 ms; SRTT = 7/8*100 + 1/8*200 = 112.5
    CHECK(rto.rttvar() == Duration(62'500'000));
    CHECK(rto.srtt() == Duration(112'500'000));
    CHECK(rto.rto() == Duration(112'500'000 + 4 * 62'500'000));
}

TEST_CASE("converges to a steady RTT and respects the granularity G", "[rto]") {
    RtoConfig config;
    config.min_rto = 0ms;
    config.granularity = 10ms;
    RtoEstimator rto(config);
    for (int i = 0; i < 200; ++i) rto.on_rtt_sample(20ms);
    CHECK(rto.srtt() == 20ms);
    CHECK(rto.rttvar() < 1ms);
    // 4*RTTVAR is tiny, so max(G, 4*RTTVAR) = G.
    CHECK(rto.rto() == 30ms);
}

TEST_CASE("minimum RTO: 200 ms by default, 1 s in strict RFC mode", "[rto]") {
    RtoEstimator linux_like;
    linux_like.on_rtt_sample(1ms);
    CHECK(linux_like.rto() == 200ms);
    RtoEstimator strict(rfc_config());
    strict.on_rtt_sample(1ms);
    CHECK(strict.rto() == 1s);
}

TEST_CASE("backoff doubles, is capped at max RTO, and a new sample resets it", "[rto]") {
    RtoEstimator rto(rfc_config());
    rto.on_rtt_sample(500ms);  // RTO = 500 + 4*250 = 1.5 s
    CHECK(rto.rto() == 1500ms);
    rto.on_timeout();
    CHECK(rto.backoff_count() == 1);
    CHECK(rto.rto() == 3s);
    rto.on_timeout();
    CHECK(rto.rto() == 6s);
    for (int i = 0; i < 100; ++i) rto.on_timeout();  // would overflow if doubled naively
    CHECK(rto.backoff_count() == 102);
    CHECK(rto.rto() == 60s);
    rto.on_rtt_sample(500ms);
    CHECK(rto.backoff_count() == 0);
    CHECK(rto.rto() < 3s);
}

TEST_CASE("huge samples are clamped to max RTO, absurd ones do not poison the estimator", "[rto]") {
    RtoEstimator rto;
    rto.on_rtt_sample(10min);
    CHECK(rto.rto() == 60s);
    RtoEstimator jump;
    jump.on_rtt_sample(-5s);  // a clock jump backwards reaching the engine
    CHECK(jump.srtt() > 0ns);
    CHECK(jump.rto() == 200ms);
}

TEST_CASE("reset_backoff and set_initial_rto", "[rto]") {
    RtoEstimator rto;
    rto.set_initial_rto(3s);  // RFC 6298 5.7
    CHECK(rto.rto() == 3s);
    rto.on_timeout();
    CHECK(rto.rto() == 6s);
    rto.reset_backoff();
    CHECK(rto.rto() == 3s);
    rto.on_rtt_sample(100ms);
    rto.set_initial_rto(5s);  // ignored once a sample exists
    CHECK(rto.rto() == 300ms);
}

TEST_CASE("Karn's rule: retransmitted segments give no sample unless timestamped", "[rto]") {
    using netloom::tcp::rtt_sample_allowed;
    CHECK(rtt_sample_allowed(false, false));
    CHECK_FALSE(rtt_sample_allowed(true, false));
    CHECK(rtt_sample_allowed(true, true));
    CHECK(rtt_sample_allowed(false, true));
}
