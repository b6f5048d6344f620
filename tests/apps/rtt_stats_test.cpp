// RttStats: the summaries ping and udp_echo print.
#include <catch2/catch.hpp>

#include "rtt_stats.hpp"

using namespace std::chrono_literals;
using netloom::Time;
using netloom::apps::RttStats;

TEST_CASE("RttStats: min, max, mean, median and mdev") {
    RttStats stats;
    CHECK(stats.median() == Time{0});
    CHECK(stats.mdev() == Time{0});
    for (long us : {40, 10, 30, 20}) stats.add(std::chrono::microseconds(us));
    CHECK(stats.count() == 4);
    CHECK(stats.min() == Time{10us});
    CHECK(stats.max() == Time{40us});
    CHECK(stats.mean() == Time{25us});
    CHECK(stats.median() == Time{25us});
    stats.add(std::chrono::microseconds(1000));
    CHECK(stats.median() == Time{30us});
    RttStats two;
    two.add(Time{10us});
    two.add(Time{30us});
    CHECK(two.mdev() == Time{10us});  // population standard deviation, as iputils prints
}
