// ab_chart.hpp — the A/B chart as a standalone SVG document, written directly (no library).
//
// Contract: `render_svg` is pure: it returns a well-formed SVG 1.1 document with six panels in
// three rows (throughput and latency bars; connections per second and bytes per idle
// connection bars; cwnd and RTT over time), one colour per variant in the order of `variants`
// and a legend naming each. Bars show the median with a min–max whisker;
// a panel without data says so. Every text is XML-escaped; non-finite numbers are skipped.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace netloom::host {

struct AbChartBar {
    std::string variant;
    double median = 0, min = 0, max = 0;
};

/// Bars side by side under one label ("bulk", "rr p99"), one per variant.
struct AbChartGroup {
    std::string label;
    std::vector<AbChartBar> bars;
};

struct AbChartSeries {
    std::string variant;
    std::vector<std::pair<double, double>> points;  // (x, y)
};

struct AbChartData {
    std::string title;
    std::vector<std::string> variants;
    std::vector<AbChartGroup> throughput;   // Gbit/s
    std::vector<AbChartGroup> latency;      // microseconds
    std::vector<AbChartGroup> connections;  // connections per second
    std::vector<AbChartGroup> memory;       // bytes per idle connection
    std::vector<AbChartSeries> cwnd;        // (ms, KiB)
    std::vector<AbChartSeries> rtt;         // (ms, microseconds)
};

std::string render_svg(const AbChartData& data);

/// The (t_ms, `key` × `scale`) points of an app's report timeline (a list of objects); samples
/// that are not objects or lack either number (or hold something else there) are skipped.
AbChartSeries timeline_series(const std::string& variant, const nlohmann::json& timeline,
                              const std::string& key, double scale);

/// Escapes &, <, >, " and ' for XML text and attributes.
std::string xml_escape(const std::string& text);

}  // namespace netloom::host
