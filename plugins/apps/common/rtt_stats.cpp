// RttStats: summaries over the kept samples.
#include "rtt_stats.hpp"

#include <algorithm>
#include <cmath>

namespace netloom::apps {

Time RttStats::min() const noexcept {
    if (samples_.empty()) return Time{0};
    return *std::min_element(samples_.begin(), samples_.end());
}

Time RttStats::max() const noexcept {
    if (samples_.empty()) return Time{0};
    return *std::max_element(samples_.begin(), samples_.end());
}

Time RttStats::mean() const noexcept {
    if (samples_.empty()) return Time{0};
    long double sum = 0;
    for (Time t : samples_) sum += static_cast<long double>(t.count());
    return Time{static_cast<Time::rep>(std::llround(sum / samples_.size()))};
}

Time RttStats::median() const {
    if (samples_.empty()) return Time{0};
    std::vector<Time> sorted = samples_;
    const std::size_t mid = sorted.size() / 2;
    std::nth_element(sorted.begin(), sorted.begin() + mid, sorted.end());
    if (sorted.size() % 2 == 1) return sorted[mid];
    // Even count: the lower middle is the largest of the lower half.
    const Time lower = *std::max_element(sorted.begin(), sorted.begin() + mid);
    return (lower + sorted[mid]) / 2;
}

Time RttStats::mdev() const noexcept {
    if (samples_.empty()) return Time{0};
    long double sum = 0, sum_sq = 0;
    for (Time t : samples_) {
        const long double x = static_cast<long double>(t.count());
        sum += x;
        sum_sq += x * x;
    }
    const long double n = static_cast<long double>(samples_.size());
    const long double mean = sum / n;
    const long double variance = std::max<long double>(0, sum_sq / n - mean * mean);
    return Time{static_cast<Time::rep>(std::llround(std::sqrt(variance)))};
}

}  // namespace netloom::apps
