// LatencyHistogram: log-linear buckets (the HdrHistogram idea, written from the description).
#include "latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace netloom::apps {

std::size_t LatencyHistogram::bucket_of(std::uint64_t ns) noexcept {
    if (ns < kLinear) return static_cast<std::size_t>(ns);
    const int exponent = std::min(62, static_cast<int>(std::bit_width(ns)) - 1);
    const int shift = exponent - kSubBits;
    // The kSubBits bits under the leading one pick the bucket within the power of two.
    const std::uint64_t sub = std::min<std::uint64_t>((ns >> shift) - kLinear, kLinear - 1);
    return kLinear + static_cast<std::size_t>(shift) * kLinear + static_cast<std::size_t>(sub);
}

std::uint64_t LatencyHistogram::bucket_low(std::size_t index) noexcept {
    if (index < kLinear) return index;
    const std::size_t shift = (index - kLinear) / kLinear;
    const std::uint64_t sub = (index - kLinear) % kLinear;
    return (kLinear + sub) << shift;
}

std::uint64_t LatencyHistogram::bucket_width(std::size_t index) noexcept {
    if (index < kLinear) return 1;
    return std::uint64_t{1} << ((index - kLinear) / kLinear);
}

void LatencyHistogram::add(Time latency) noexcept {
    if (latency < Time{0}) latency = Time{0};
    const auto ns = static_cast<std::uint64_t>(latency.count());
    ++buckets_[bucket_of(ns)];
    if (count_ == 0 || latency < min_) min_ = latency;
    if (count_ == 0 || latency > max_) max_ = latency;
    ++count_;
    sum_ns_ += static_cast<long double>(ns);
}

Time LatencyHistogram::mean() const noexcept {
    if (count_ == 0) return Time{0};
    return Time{static_cast<Time::rep>(std::llround(sum_ns_ / static_cast<long double>(count_)))};
}

Time LatencyHistogram::quantile(double q) const noexcept {
    if (count_ == 0) return Time{0};
    q = std::clamp(q, 0.0, 1.0);
    const auto rank = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
    if (rank >= count_) return max_;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
        seen += buckets_[i];
        if (seen >= rank) {
            const std::uint64_t mid = bucket_low(i) + bucket_width(i) / 2;
            const Time value{static_cast<Time::rep>(mid)};
            return std::clamp(value, min_, max_);
        }
    }
    return max_;
}

}  // namespace netloom::apps
