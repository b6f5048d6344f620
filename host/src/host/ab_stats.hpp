// ab_stats.hpp — the arithmetic and text of the A/B table: medians, ranges, ratios to the first
// variant, the standard metric names and their column labels.
//
// Contract: pure functions, no I/O. `summarize` of no values has count 0 (and NaN fields); a
// ratio is only defined when the baseline is a finite non-zero number. `format_table` prints
// one row per variant and one column per metric that any row has (standard metrics first, in
// `standard_metrics()` order, then the others by name); each cell is the median, followed for
// every row but the baseline row by `(0.97x)` against the baseline row: the first row without a
// note that has any value (`baseline_row`), "(-)" in a column where it has none.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace netloom::host {

struct AbSummary {
    double median = 0, min = 0, max = 0;
    std::size_t count = 0;
};

AbSummary summarize(std::vector<double> values);

/// value / baseline, or nullopt when the baseline is zero or not finite.
std::optional<double> ratio_to(double value, double baseline);

/// The table's standard columns, in order (the names apps and the harness write).
const std::vector<std::string>& standard_metrics();
/// A short column label ("Gbit/s" for throughput_gbit_s); unknown names are their own label.
std::string metric_label(const std::string& name);
/// Orders metric names: standard ones first, in table order, then the rest alphabetically.
std::vector<std::string> order_metrics(const std::vector<std::string>& names);

/// A number with about three significant digits and no exponent ("8.13", "81.3", "81300").
std::string format_number(double value);
/// "8.13" for the baseline row, "7.90 (0.97x)" after it, "7.90 (-)" without a usable baseline.
std::string format_cell(const AbSummary& cell, const AbSummary* baseline);

struct AbTableRow {
    std::string variant;
    std::map<std::string, AbSummary> metrics;
    std::string note;  // shown instead of the cells when set ("not run: ...")
};

/// The index of the row ratios are taken against, nullopt when no row has a value.
std::optional<std::size_t> baseline_row(const std::vector<AbTableRow>& rows);

/// The table as text lines, each ending in '\n'; the first line is the header.
std::string format_table(const std::vector<AbTableRow>& rows);

}  // namespace netloom::host
