// rtt_stats.hpp — RttStats: the round-trip times an app measured, summarised as ping does
// (min/avg/max/mdev) plus the median.
//
// Contract: samples are kept (one Time each) so the median is exact; every summary of an empty
// set is 0. `mdev` is the population standard deviation sqrt(mean(x²) − mean(x)²), which is
// what iputils ping prints under that name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "netloom/scheduler.hpp"

namespace netloom::apps {

class RttStats {
public:
    void add(Time rtt) { samples_.push_back(rtt); }
    std::size_t count() const noexcept { return samples_.size(); }
    Time min() const noexcept;
    Time max() const noexcept;
    Time mean() const noexcept;
    /// The middle sample (the mean of the two middle ones for an even count).
    Time median() const;
    Time mdev() const noexcept;

private:
    std::vector<Time> samples_;
};

/// Whole microseconds, for counters (`rtt_us_*`).
inline std::uint64_t to_us(Time t) noexcept {
    return t.count() <= 0 ? 0 : static_cast<std::uint64_t>(t.count() / 1000);
}
/// Milliseconds as a double, for log lines ("0.042 ms").
inline double to_ms(Time t) noexcept {
    return static_cast<double>(t.count()) / 1e6;
}

}  // namespace netloom::apps
