// The A/B chart: six panels drawn as plain SVG elements.
#include "ab_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace netloom::host {
namespace {

constexpr double kWidth = 1000, kPanelWidth = 500, kPanelHeight = 320, kTop = 70;
constexpr double kMarginLeft = 70, kMarginRight = 20, kMarginTop = 34, kMarginBottom = 46;

const char* colour(std::size_t index) {
    static const char* palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                    "#9467bd", "#8c564b", "#e377c2", "#17becf"};
    return palette[index % (sizeof palette / sizeof palette[0])];
}

std::string num(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", v);
    return text;
}

// A round step (1, 2 or 5 times a power of ten) giving about five ticks up to `max`.
double tick_step(double max) {
    if (!(max > 0)) return 1;
    const double raw = max / 5;
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
        if (raw <= m * power) return m * power;
    }
    return 10 * power;
}

std::string tick_label(double v) {
    char text[32];
    if (v != 0 && std::fabs(v) < 1) {
        std::snprintf(text, sizeof text, "%g", v);
    } else {
        std::snprintf(text, sizeof text, "%.0f", v);
    }
    return text;
}

// 10^exponent as "1", "10", "100", "1k" ... "100G".
std::string power_label(double exponent) {
    static const char* suffix[] = {"", "k", "M", "G", "T"};
    const int e = static_cast<int>(std::lround(exponent));
    if (e < 0 || e >= 15) return "1e" + std::to_string(e);
    std::string digits = "1" + std::string(static_cast<std::size_t>(e % 3), '0');
    return digits + suffix[e / 3];
}

struct Panel {
    double x, y;  // top-left corner of the panel
    double left() const { return x + kMarginLeft; }
    double right() const { return x + kPanelWidth - kMarginRight; }
    double top() const { return y + kMarginTop; }
    double bottom() const { return y + kPanelHeight - kMarginBottom; }
};

std::size_t variant_index(const AbChartData& data, const std::string& variant) {
    auto it = std::find(data.variants.begin(), data.variants.end(), variant);
    return static_cast<std::size_t>(it - data.variants.begin());
}

// Frame, title, horizontal grid and y labels; returns the y axis top value.
// With `log_y` the values are log10 and the ticks fall on powers of ten.
double draw_frame(std::string& svg, const Panel& p, const std::string& title,
                  const std::string& y_label, double max_value, bool log_y = false) {
    svg += "<g class=\"panel\">\n";
    svg += "<text x=\"" + num(p.x + kPanelWidth / 2) + "\" y=\"" + num(p.y + 20) +
           "\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">" + xml_escape(title) +
           "</text>\n";
    const double step = log_y ? 1 : tick_step(max_value);
    const double top_value = std::max(step, std::ceil(max_value / step) * step);
    for (double v = 0; v <= top_value + step / 2; v += step) {
        const double y = p.bottom() - (p.bottom() - p.top()) * v / top_value;
        svg += "<line x1=\"" + num(p.left()) + "\" y1=\"" + num(y) + "\" x2=\"" + num(p.right()) +
               "\" y2=\"" + num(y) + "\" stroke=\"#dddddd\"/>\n";
        svg += "<text x=\"" + num(p.left() - 6) + "\" y=\"" + num(y + 4) +
               "\" text-anchor=\"end\" font-size=\"11\">" +
               (log_y ? power_label(v) : tick_label(v)) + "</text>\n";
    }
    svg += "<line x1=\"" + num(p.left()) + "\" y1=\"" + num(p.bottom()) + "\" x2=\"" +
           num(p.right()) + "\" y2=\"" + num(p.bottom()) + "\" stroke=\"#333333\"/>\n";
    svg += "<line x1=\"" + num(p.left()) + "\" y1=\"" + num(p.top()) + "\" x2=\"" + num(p.left()) +
           "\" y2=\"" + num(p.bottom()) + "\" stroke=\"#333333\"/>\n";
    const double mid = (p.top() + p.bottom()) / 2;
    svg += "<text x=\"" + num(p.x + 16) + "\" y=\"" + num(mid) +
           "\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 " + num(p.x + 16) +
           " " + num(mid) + ")\">" + xml_escape(y_label) + "</text>\n";
    return top_value;
}

void draw_empty(std::string& svg, const Panel& p, const std::string& title) {
    draw_frame(svg, p, title, "", 1);
    svg += "<text x=\"" + num((p.left() + p.right()) / 2) + "\" y=\"" +
           num((p.top() + p.bottom()) / 2) +
           "\" text-anchor=\"middle\" font-size=\"13\" fill=\"#888888\">no data</text>\n</g>\n";
}

void draw_bars(std::string& svg, const AbChartData& data, const Panel& p, const std::string& title,
               const std::string& y_label, const std::vector<AbChartGroup>& groups) {
    double max_value = 0;
    std::size_t bar_count = 0;
    for (const auto& g : groups) {
        for (const auto& b : g.bars) {
            if (std::isfinite(b.max)) max_value = std::max(max_value, b.max);
            if (std::isfinite(b.median)) max_value = std::max(max_value, b.median);
            ++bar_count;
        }
    }
    if (bar_count == 0) return draw_empty(svg, p, title);
    const double top_value = draw_frame(svg, p, title, y_label, max_value);
    const double scale = (p.bottom() - p.top()) / top_value;
    const double group_width = (p.right() - p.left()) / static_cast<double>(groups.size());
    for (std::size_t gi = 0; gi < groups.size(); ++gi) {
        const auto& g = groups[gi];
        const double gx = p.left() + group_width * static_cast<double>(gi);
        const double bar_width = std::min(
            60.0, group_width * 0.8 / static_cast<double>(std::max<std::size_t>(1, g.bars.size())));
        const double start =
            gx + (group_width - bar_width * static_cast<double>(g.bars.size())) / 2;
        for (std::size_t bi = 0; bi < g.bars.size(); ++bi) {
            const auto& b = g.bars[bi];
            if (!std::isfinite(b.median)) continue;
            const double bx = start + bar_width * static_cast<double>(bi);
            const double h = b.median * scale;
            svg += "<rect class=\"bar\" data-variant=\"" + xml_escape(b.variant) + "\" x=\"" +
                   num(bx + 2) + "\" y=\"" + num(p.bottom() - h) + "\" width=\"" +
                   num(bar_width - 4) + "\" height=\"" + num(h) + "\" fill=\"" +
                   colour(variant_index(data, b.variant)) + "\"><title>" +
                   xml_escape(b.variant + " " + g.label + ": " + tick_label(b.median)) +
                   "</title></rect>\n";
            if (std::isfinite(b.min) && std::isfinite(b.max) && b.max > b.min) {
                const double cx = bx + bar_width / 2;
                svg += "<line x1=\"" + num(cx) + "\" y1=\"" + num(p.bottom() - b.min * scale) +
                       "\" x2=\"" + num(cx) + "\" y2=\"" + num(p.bottom() - b.max * scale) +
                       "\" stroke=\"#000000\" stroke-width=\"1.5\"/>\n";
            }
        }
        svg += "<text x=\"" + num(gx + group_width / 2) + "\" y=\"" + num(p.bottom() + 18) +
               "\" text-anchor=\"middle\" font-size=\"12\">" + xml_escape(g.label) + "</text>\n";
    }
    svg += "</g>\n";
}

// `log_y`: cwnd spans decades between engines and phases; values below 1 are drawn at 1.
void draw_lines(std::string& svg, const AbChartData& data, const Panel& p, const std::string& title,
                const std::string& y_label, const std::vector<AbChartSeries>& series, bool log_y) {
    auto y_of = [log_y](double y) { return log_y ? std::log10(std::max(1.0, y)) : y; };
    double max_x = 0, max_y = 0;
    std::size_t points = 0;
    for (const auto& s : series) {
        for (const auto& [x, y] : s.points) {
            if (!std::isfinite(x) || !std::isfinite(y)) continue;
            max_x = std::max(max_x, x);
            max_y = std::max(max_y, y_of(y));
            ++points;
        }
    }
    if (points == 0) return draw_empty(svg, p, title);
    const double top_value = draw_frame(svg, p, title, y_label, max_y, log_y);
    const double x_step = tick_step(max_x);
    const double x_top = std::max(x_step, std::ceil(max_x / x_step) * x_step);
    const double width = p.right() - p.left(), height = p.bottom() - p.top();
    for (double v = 0; v <= x_top + x_step / 2; v += x_step) {
        const double x = p.left() + width * v / x_top;
        svg += "<text x=\"" + num(x) + "\" y=\"" + num(p.bottom() + 16) +
               "\" text-anchor=\"middle\" font-size=\"11\">" + tick_label(v) + "</text>\n";
    }
    svg += "<text x=\"" + num((p.left() + p.right()) / 2) + "\" y=\"" + num(p.bottom() + 36) +
           "\" text-anchor=\"middle\" font-size=\"12\">time (ms)</text>\n";
    for (const auto& s : series) {
        std::string path;
        for (const auto& [x, y] : s.points) {
            if (!std::isfinite(x) || !std::isfinite(y)) continue;
            path += (path.empty() ? "" : " ") + num(p.left() + width * x / x_top) + "," +
                    num(p.bottom() - height * y_of(y) / top_value);
        }
        if (path.empty()) continue;
        svg += "<polyline class=\"series\" data-variant=\"" + xml_escape(s.variant) +
               "\" fill=\"none\" stroke-width=\"1.5\" stroke=\"" +
               colour(variant_index(data, s.variant)) + "\" points=\"" + path + "\"/>\n";
    }
    svg += "</g>\n";
}

}  // namespace

std::string xml_escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string render_svg(const AbChartData& data) {
    const double height = kTop + 3 * kPanelHeight + 10;
    std::string svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + num(kWidth) +
           "\" height=\"" + num(height) + "\" viewBox=\"0 0 " + num(kWidth) + " " + num(height) +
           "\" font-family=\"sans-serif\">\n";
    svg += "<rect x=\"0\" y=\"0\" width=\"" + num(kWidth) + "\" height=\"" + num(height) +
           "\" fill=\"#ffffff\"/>\n";
    svg += "<text x=\"" + num(kWidth / 2) +
           "\" y=\"24\" text-anchor=\"middle\" font-size=\"18\" font-weight=\"bold\">" +
           xml_escape(data.title) + "</text>\n";
    // Legend: one swatch per variant, in a row under the title.
    double lx = 20;
    for (std::size_t i = 0; i < data.variants.size(); ++i) {
        svg += "<g class=\"legend\"><rect x=\"" + num(lx) + "\" y=\"40\" width=\"14\" " +
               "height=\"14\" fill=\"" + colour(i) + "\"/><text x=\"" + num(lx + 20) +
               "\" y=\"52\" font-size=\"13\">" + xml_escape(data.variants[i]) + "</text></g>\n";
        lx += 40 + 8 * static_cast<double>(data.variants[i].size());
    }
    draw_bars(svg, data, {0, kTop}, "Throughput (median, min-max)", "Gbit/s", data.throughput);
    draw_bars(svg, data, {kPanelWidth, kTop}, "Latency (median, min-max)", "microseconds",
              data.latency);
    draw_bars(svg, data, {0, kTop + kPanelHeight}, "Connections per second (median, min-max)",
              "connections/s", data.connections);
    draw_bars(svg, data, {kPanelWidth, kTop + kPanelHeight},
              "Memory per idle connection (median, min-max)", "bytes", data.memory);
    draw_lines(svg, data, {0, kTop + 2 * kPanelHeight}, "Bulk: congestion window",
               "cwnd (KiB, log)", data.cwnd, true);
    draw_lines(svg, data, {kPanelWidth, kTop + 2 * kPanelHeight}, "Bulk: smoothed RTT", "srtt (us)",
               data.rtt, false);
    svg += "</svg>\n";
    return svg;
}

AbChartSeries timeline_series(const std::string& variant, const nlohmann::json& timeline,
                              const std::string& key, double scale) {
    AbChartSeries series{variant, {}};
    if (!timeline.is_array()) return series;
    for (const auto& sample : timeline) {
        if (!sample.is_object()) continue;
        const auto t = sample.find("t_ms");
        const auto y = sample.find(key);
        if (t == sample.end() || y == sample.end() || !t->is_number() || !y->is_number()) continue;
        series.points.emplace_back(t->get<double>(), y->get<double>() * scale);
    }
    return series;
}

}  // namespace netloom::host
