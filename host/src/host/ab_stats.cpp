// Medians, ratios and the fixed-width table of the A/B harness.
#include "ab_stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace netloom::host {

AbSummary summarize(std::vector<double> values) {
    AbSummary s;
    std::erase_if(values, [](double v) { return !std::isfinite(v); });
    s.count = values.size();
    if (values.empty()) {
        s.median = s.min = s.max = std::numeric_limits<double>::quiet_NaN();
        return s;
    }
    std::sort(values.begin(), values.end());
    const std::size_t mid = values.size() / 2;
    s.median = values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    s.min = values.front();
    s.max = values.back();
    return s;
}

std::optional<double> ratio_to(double value, double baseline) {
    if (!std::isfinite(baseline) || baseline == 0 || !std::isfinite(value)) return std::nullopt;
    return value / baseline;
}

const std::vector<std::string>& standard_metrics() {
    static const std::vector<std::string> names{"throughput_gbit_s", "rr_per_s",
                                                "latency_p50_us",    "latency_p99_us",
                                                "connections_per_s", "bytes_per_idle_connection",
                                                "retransmits",       "cpu_seconds"};
    return names;
}

std::string metric_label(const std::string& name) {
    static const std::map<std::string, std::string> labels{
        {"throughput_gbit_s", "Gbit/s"}, {"rr_per_s", "trans/s"},
        {"latency_p50_us", "p50 us"},    {"latency_p99_us", "p99 us"},
        {"connections_per_s", "conn/s"}, {"bytes_per_idle_connection", "B/idle conn"},
        {"retransmits", "retrans"},      {"cpu_seconds", "cpu s"},
    };
    auto it = labels.find(name);
    return it == labels.end() ? name : it->second;
}

std::vector<std::string> order_metrics(const std::vector<std::string>& names) {
    std::vector<std::string> out;
    for (const auto& s : standard_metrics()) {
        if (std::find(names.begin(), names.end(), s) != names.end()) out.push_back(s);
    }
    std::vector<std::string> rest;
    for (const auto& n : names) {
        if (std::find(out.begin(), out.end(), n) == out.end() &&
            std::find(rest.begin(), rest.end(), n) == rest.end()) {
            rest.push_back(n);
        }
    }
    std::sort(rest.begin(), rest.end());
    out.insert(out.end(), rest.begin(), rest.end());
    return out;
}

std::string format_number(double value) {
    if (!std::isfinite(value)) return "-";
    char text[48];
    const double magnitude = std::fabs(value);
    if (magnitude >= 100 || value == std::floor(value)) {
        std::snprintf(text, sizeof text, "%.0f", value);
    } else if (magnitude >= 10) {
        std::snprintf(text, sizeof text, "%.1f", value);
    } else if (magnitude >= 1) {
        std::snprintf(text, sizeof text, "%.2f", value);
    } else {
        std::snprintf(text, sizeof text, "%.3g", value);
    }
    return text;
}

std::string format_cell(const AbSummary& cell, const AbSummary* baseline) {
    if (cell.count == 0) return "-";
    std::string text = format_number(cell.median);
    if (!baseline) return text;
    const auto r = ratio_to(cell.median, baseline->median);
    if (!r) return text + " (-)";
    char ratio[32];
    std::snprintf(ratio, sizeof ratio, " (%.2fx)", *r);
    return text + ratio;
}

std::optional<std::size_t> baseline_row(const std::vector<AbTableRow>& rows) {
    for (std::size_t r = 0; r < rows.size(); ++r) {
        if (!rows[r].note.empty()) continue;
        for (const auto& [name, summary] : rows[r].metrics) {
            if (summary.count > 0) return r;
        }
    }
    return std::nullopt;
}

std::string format_table(const std::vector<AbTableRow>& rows) {
    std::vector<std::string> names;
    for (const auto& row : rows) {
        for (const auto& [name, summary] : row.metrics) {
            if (summary.count > 0) names.push_back(name);
        }
    }
    const std::vector<std::string> columns = order_metrics(names);
    // cells[r][c]; every ratio is against the baseline row (a column it lacks has none).
    const std::optional<std::size_t> base = baseline_row(rows);
    const AbSummary none{NAN, NAN, NAN, 0};
    std::vector<std::vector<std::string>> cells(rows.size());
    for (std::size_t c = 0; c < columns.size(); ++c) {
        const AbSummary* baseline = &none;
        if (base) {
            auto it = rows[*base].metrics.find(columns[c]);
            if (it != rows[*base].metrics.end() && it->second.count > 0) baseline = &it->second;
        }
        for (std::size_t r = 0; r < rows.size(); ++r) {
            auto it = rows[r].metrics.find(columns[c]);
            if (it == rows[r].metrics.end() || it->second.count == 0) {
                cells[r].push_back("-");
                continue;
            }
            cells[r].push_back(format_cell(it->second, base && r == *base ? nullptr : baseline));
        }
    }
    std::size_t first = std::string("variant").size();
    for (const auto& row : rows) first = std::max(first, row.variant.size());
    std::vector<std::size_t> widths;
    for (std::size_t c = 0; c < columns.size(); ++c) {
        std::size_t w = metric_label(columns[c]).size();
        for (const auto& row : cells) w = std::max(w, row[c].size());
        widths.push_back(w);
    }
    auto pad_right = [](std::string s, std::size_t w) {
        return s + std::string(w - s.size(), ' ');
    };
    auto pad_left = [](std::string s, std::size_t w) { return std::string(w - s.size(), ' ') + s; };
    std::string out = pad_right("variant", first);
    for (std::size_t c = 0; c < columns.size(); ++c) {
        out += "  " + pad_left(metric_label(columns[c]), widths[c]);
    }
    out += "\n";
    for (std::size_t r = 0; r < rows.size(); ++r) {
        std::string line = pad_right(rows[r].variant, first);
        if (!rows[r].note.empty()) {
            line += "  " + rows[r].note;
        } else {
            for (std::size_t c = 0; c < columns.size(); ++c) {
                line += "  " + pad_left(cells[r][c], widths[c]);
            }
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    return out;
}

}  // namespace netloom::host
