// latency_histogram.hpp — LatencyHistogram: latencies summarised in fixed memory (log-linear
// buckets), for apps that measure millions of samples (rr) and report percentiles.
//
// Contract: values below 64 ns are counted exactly; above, each power of two is split into 64
// equal buckets, so a reported percentile is within 1/64 (1.6 %) of a true sample. Memory is
// fixed (about 29 KiB) whatever the count. Negative samples count as 0. `quantile(q)` returns
// the midpoint of the bucket holding the ceil(q * count)-th smallest sample, clamped to the
// exact [min, max] seen (quantile(1) is the exact max); every summary of an empty histogram is 0.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "netloom/scheduler.hpp"

namespace netloom::apps {

class LatencyHistogram {
public:
    void add(Time latency) noexcept;
    std::uint64_t count() const noexcept { return count_; }
    Time min() const noexcept { return count_ ? min_ : Time{0}; }
    Time max() const noexcept { return count_ ? max_ : Time{0}; }
    Time mean() const noexcept;
    /// q in [0, 1]; 0.5 is the median, 0.99 the 99th percentile.
    Time quantile(double q) const noexcept;

    static constexpr int kSubBits = 6;  ///< 64 buckets per power of two
    static constexpr std::size_t kLinear = std::size_t{1} << kSubBits;
    /// Exact buckets below 64 ns, then 64 per power of two from 2^6 to 2^62 ns.
    static constexpr std::size_t kBuckets = kLinear + (62 - kSubBits + 1) * kLinear;
    static std::size_t bucket_of(std::uint64_t ns) noexcept;
    static std::uint64_t bucket_low(std::size_t index) noexcept;
    static std::uint64_t bucket_width(std::size_t index) noexcept;

private:
    std::array<std::uint64_t, kBuckets> buckets_{};
    std::uint64_t count_ = 0;
    long double sum_ns_ = 0;
    Time min_{0}, max_{0};
};

}  // namespace netloom::apps
