// The pure parts of the A/B harness: override paths, the ab: plan and its derived configs,
// medians and ratios, the table, and the SVG chart.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>
#include <vector>

#include "ab_chart.hpp"
#include "ab_child.hpp"
#include "ab_linux.hpp"
#include "ab_plan.hpp"
#include "ab_stats.hpp"

using namespace netloom;
using namespace netloom::host;

namespace {

const char* kBase = R"(scheduler: {use: epoll}
stacks:
  server:
    device: {use: wire, link: lan0}
    tcp: {use: tcp_utcp}
    apps: [{use: tcp_echo, role: server, port: 7}]
  client:
    device: {use: wire, link: lan0}
    tcp: {use: tcp_utcp}
)";

const char* kAb = R"(ab:
  runs: 2
  variants:
    utcp: {stacks.*.tcp.use: tcp_utcp}
    classic: {stacks.*.tcp.use: tcp_classic, scheduler: {use: fair, quantum: 2}}
  workloads:
    bulk:
      server: [{use: tcp_bulk, role: server, direction: receive}]
      client: [{use: tcp_bulk, role: client, direction: send, target: 10.0.0.2, bytes: 1MiB}]
)";

Config load(const std::string& text) {
    return Config::load_string(text, "ab.yaml");
}

template <typename F>
ConfigError error_of(F&& f) {
    try {
        f();
    } catch (const ConfigError& e) {
        return e;
    }
    FAIL("expected a ConfigError");
    throw std::logic_error("unreachable");
}

// A small well-formedness check: every tag closes in order, attributes are quoted, and no
// bare '&' or '<' appears in text. Returns the element names seen.
std::vector<std::string> xml_elements(const std::string& xml) {
    std::vector<std::string> stack, seen;
    const std::regex tag(R"(<(/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(/?)>)");
    std::size_t pos = xml.find("?>");
    REQUIRE(pos != std::string::npos);
    pos += 2;
    while (pos < xml.size()) {
        const std::size_t open = xml.find('<', pos);
        const std::string text = xml.substr(pos, open == std::string::npos ? open : open - pos);
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] == '&') {
                const auto semi = text.find(';', i);
                REQUIRE(semi != std::string::npos);
                const std::string entity = text.substr(i, semi - i + 1);
                CHECK((entity == "&amp;" || entity == "&lt;" || entity == "&gt;" ||
                       entity == "&quot;" || entity == "&apos;"));
            }
        }
        if (open == std::string::npos) break;
        std::smatch m;
        const std::string rest = xml.substr(open);
        REQUIRE(std::regex_search(rest, m, tag, std::regex_constants::match_continuous));
        if (m[1] == "/") {
            REQUIRE_FALSE(stack.empty());
            CHECK(stack.back() == m[2].str());
            stack.pop_back();
        } else {
            seen.push_back(m[2]);
            if (m[4] != "/") stack.push_back(m[2]);
        }
        pos = open + static_cast<std::size_t>(m.length(0));
    }
    CHECK(stack.empty());
    return seen;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
    return n;
}

// A scratch directory for child logs, removed at the end of the test.
struct Scratch {
    std::string dir;
    Scratch() {
        char name[] = "/tmp/netloom-ab-unit-XXXXXX";
        REQUIRE(mkdtemp(name));
        dir = name;
    }
    ~Scratch() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    std::string read(const std::string& file) const {
        std::ifstream in(dir + "/" + file);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
};

// True once no process `pid` exists any more (or it is a zombie nobody will use), waiting at
// most 5 s: an orphan is reaped by init shortly after it dies.
bool gone_within_5s(pid_t pid) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < until) {
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string line;
        if (!std::getline(stat, line)) return true;
        const auto close = line.rfind(')');
        if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z')
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

}  // namespace

TEST_CASE("an override path with a star sets the key in every stack") {
    YAML::Node doc = YAML::Load(kBase);
    CHECK(apply_override(doc, "stacks.*.tcp.use", YAML::Node("tcp_classic")) == 2);
    CHECK(doc["stacks"]["server"]["tcp"]["use"].as<std::string>() == "tcp_classic");
    CHECK(doc["stacks"]["client"]["tcp"]["use"].as<std::string>() == "tcp_classic");
}

TEST_CASE("an override creates a missing last key but never a missing parent") {
    YAML::Node doc = YAML::Load(kBase);
    CHECK(apply_override(doc, "stacks.server.tcp.cc", YAML::Node("newreno")) == 1);
    CHECK(doc["stacks"]["server"]["tcp"]["cc"].as<std::string>() == "newreno");
    CHECK(apply_override(doc, "stacks.server.tpc.use", YAML::Node("x")) == 0);
    CHECK(apply_override(doc, "stacks..tcp", YAML::Node("x")) == 0);
    CHECK(apply_override(doc, "", YAML::Node("x")) == 0);
    CHECK(apply_override(doc, "scheduler.use.deeper", YAML::Node("x")) == 0);  // a scalar
}

TEST_CASE("an override value may be a mapping") {
    YAML::Node doc = YAML::Load(kBase);
    CHECK(apply_override(doc, "scheduler", YAML::Load("{use: fair, quantum: 2}")) == 1);
    CHECK(doc["scheduler"]["use"].as<std::string>() == "fair");
    CHECK(doc["scheduler"]["quantum"].as<int>() == 2);
}

TEST_CASE("the ab section becomes a plan with variants and workloads in document order") {
    const AbPlan plan = AbPlan::from_config(load(std::string(kBase) + kAb));
    CHECK(plan.runs == 2);
    REQUIRE(plan.variants.size() == 2);
    CHECK(plan.variants[0].name == "utcp");
    CHECK(plan.variants[1].name == "classic");
    CHECK(plan.variants[1].overrides.size() == 2);
    CHECK(plan.variants[1].mark.line == 14);
    REQUIRE(plan.workloads.size() == 1);
    CHECK(plan.workloads[0].name == "bulk");
    CHECK(plan.json == "ab_results.json");
    CHECK_FALSE(plan.base["ab"].IsDefined());
    CHECK(AbPlan::plugins_named(plan.variants[1]) ==
          std::vector<std::string>{"fair", "tcp_classic"});
    CHECK(AbPlan::plugins_named(plan.workloads[0]) == std::vector<std::string>{"tcp_bulk"});
}

TEST_CASE("a derived config has the variant, the workload's apps and report paths") {
    const AbPlan plan = AbPlan::from_config(load(std::string(kBase) + kAb));
    std::vector<AbReportSlot> reports;
    const YAML::Node doc = plan.derive(plan.variants[1], plan.workloads[0], "/tmp/r1", reports);
    CHECK_FALSE(doc["ab"].IsDefined());
    CHECK(doc["stacks"]["server"]["tcp"]["use"].as<std::string>() == "tcp_classic");
    CHECK(doc["scheduler"]["use"].as<std::string>() == "fair");
    CHECK(doc["run"]["duration"].as<std::string>() == "60000ms");
    // The server's own tcp_echo is gone: the workload's apps replace every stack's apps.
    REQUIRE(doc["stacks"]["server"]["apps"].size() == 1);
    CHECK(doc["stacks"]["server"]["apps"][0]["use"].as<std::string>() == "tcp_bulk");
    CHECK_FALSE(doc["stacks"]["server"]["apps"][0]["report"].IsDefined());  // not a client
    CHECK(doc["stacks"]["client"]["apps"][0]["report"].as<std::string>() ==
          "/tmp/r1/client.app0.json");
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].app == "client/app0/tcp_bulk");
    // The plan's base is untouched by deriving.
    CHECK(plan.base["stacks"]["server"]["tcp"]["use"].as<std::string>() == "tcp_utcp");
    // And the text round-trips into a Config.
    const Config again = Config::load_string(to_yaml(doc), "derived");
    CHECK(again.child("stacks").child("client").child_list("apps").size() == 1);
}

TEST_CASE("ab errors name the line and column of the offending key") {
    const std::string base = kBase;
    auto e = error_of([&] {
        AbPlan::from_config(
            load(base + std::regex_replace(std::string(kAb), std::regex("runs"), "rnus")));
    });
    CHECK(e.mark().line == 11);
    CHECK_THAT(e.what(), Catch::Contains("did you mean 'runs'"));

    e = error_of([&] {
        AbPlan::from_config(
            load(base + std::regex_replace(std::string(kAb), std::regex("\\*\\.tcp"), "*.tpc")));
    });
    CHECK(e.mark().line == 13);
    CHECK_THAT(e.what(), Catch::Contains("matches nothing"));

    e = error_of([&] {
        AbPlan::from_config(
            load(base + std::regex_replace(std::string(kAb), std::regex("      client:"),
                                           "      clinet:")));
    });
    CHECK(e.mark().line == 18);
    CHECK_THAT(e.what(), Catch::Contains("stack 'clinet'"));

    e = error_of([&] { AbPlan::from_config(load(base)); });
    CHECK_THAT(e.what(), Catch::Contains("no `ab:` section"));
}

TEST_CASE("medians, ranges and ratios") {
    const AbSummary odd = summarize({3, 1, 2});
    CHECK(odd.median == 2);
    CHECK(odd.min == 1);
    CHECK(odd.max == 3);
    CHECK(odd.count == 3);
    CHECK(summarize({4, 1, 2, 3}).median == 2.5);
    CHECK(summarize({NAN, 5}).count == 1);
    CHECK(summarize({}).count == 0);
    CHECK(ratio_to(8, 10) == Approx(0.8));
    CHECK_FALSE(ratio_to(1, 0).has_value());
    CHECK_FALSE(ratio_to(1, NAN).has_value());
}

TEST_CASE("numbers keep about three significant digits") {
    CHECK(format_number(8.134) == "8.13");
    CHECK(format_number(81.34) == "81.3");
    CHECK(format_number(81340.2) == "81340");
    CHECK(format_number(0.0123456) == "0.0123");
    CHECK(format_number(0) == "0");
    CHECK(format_number(NAN) == "-");
}

TEST_CASE("the table has a column per metric and ratios after the first row") {
    std::vector<AbTableRow> rows(3);
    rows[0].variant = "utcp";
    rows[0].metrics["throughput_gbit_s"] = summarize({8, 8.2, 7.9});
    rows[0].metrics["cpu_seconds"] = summarize({1.0});
    rows[0].metrics["custom_thing"] = summarize({3});
    rows[1].variant = "classic";
    rows[1].metrics["throughput_gbit_s"] = summarize({4});
    rows[1].metrics["cpu_seconds"] = summarize({1.5});
    rows[2].variant = "fair";
    rows[2].note = "not run: no plugin named 'fair'";
    const std::string table = format_table(rows);
    const auto first_line = table.substr(0, table.find('\n'));
    CHECK(first_line.find("Gbit/s") < first_line.find("cpu s"));
    CHECK(first_line.find("cpu s") < first_line.find("custom_thing"));
    CHECK_THAT(table, Catch::Contains("utcp"));
    CHECK_THAT(table, Catch::Contains("4 (0.50x)"));
    CHECK_THAT(table, Catch::Contains("1.50 (1.50x)"));
    CHECK_THAT(table, Catch::Contains("fair     not run: no plugin named 'fair'"));
    CHECK(count_of(table, "\n") == 4);
    // The baseline row shows no ratio.
    const std::size_t utcp_at = table.find("\nutcp") + 1;
    const std::string utcp_line = table.substr(utcp_at, table.find('\n', utcp_at) - utcp_at);
    CHECK_THAT(utcp_line, Catch::StartsWith("utcp"));
    CHECK(utcp_line.find("x)") == std::string::npos);
}

TEST_CASE("the chart is well-formed SVG with a bar and a line per variant") {
    AbChartData data;
    data.title = "A/B <test> & more";
    data.variants = {"utcp", "cl<assic"};
    data.throughput = {{"bulk", {{"utcp", 8, 7.5, 8.5}, {"cl<assic", 4, 4, 4}}}};
    data.latency = {{"rr p50", {{"utcp", 20, 18, 25}}}, {"rr p99", {{"utcp", 80, 70, 90}}}};
    data.cwnd = {{"utcp", {{0, 10}, {20, 100}, {40, 1000}}}, {"cl<assic", {{0, 10}, {20, 50}}}};
    data.rtt = {{"utcp", {{0, 100}, {20, NAN}, {40, 120}}}, {"cl<assic", {}}};
    const std::string svg = render_svg(data);
    const auto elements = xml_elements(svg);
    CHECK(elements.front() == "svg");
    CHECK(count_of(svg, "class=\"bar\"") == 4);
    CHECK(count_of(svg, "<polyline") == 3);  // the empty RTT series draws nothing
    CHECK(count_of(svg, "data-variant=\"cl&lt;assic\"") == 2);
    CHECK_THAT(svg, Catch::Contains("A/B &lt;test&gt; &amp; more"));
    CHECK(count_of(svg, "class=\"legend\"") == 2);
}

TEST_CASE("a chart without data still renders, saying so") {
    AbChartData data;
    data.title = "empty";
    const std::string svg = render_svg(data);
    xml_elements(svg);
    CHECK(count_of(svg, "no data") == 4);
}

TEST_CASE("a child's background process dies with it, at the timeout and after a normal exit") {
    Scratch scratch;
    for (const bool hang : {true, false}) {
        const std::string script =
            "sleep 30 & echo $! > " + shell_quote(scratch.dir + "/pid") + (hang ? "\nwait" : "");
        const AbChildResult r = run_child({"/bin/sh", "-c", script}, scratch.dir + "/log",
                                          std::chrono::milliseconds(hang ? 300 : 10000));
        CHECK(r.timed_out == hang);
        CHECK(r.wall_seconds < 5);
        CHECK(r.spawn_error.empty());
        const pid_t background = std::stoi(scratch.read("pid"));
        CHECK(gone_within_5s(background));
    }
}

TEST_CASE("a child whose status cannot be read is not a success") {
    Scratch scratch;
    struct sigaction ignore {
    }, old{};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGCHLD, &ignore, &old);  // children are reaped by the kernel: wait4 gets ECHILD
    const AbChildResult r =
        run_child({"/bin/sh", "-c", "kill -9 $$"}, scratch.dir + "/log", std::chrono::seconds(10));
    sigaction(SIGCHLD, &old, nullptr);
    CHECK_FALSE(r.spawn_error.empty());
    const AbRunOutcome outcome = collect_run(r, {}, scratch.dir + "/none.json", "");
    CHECK_FALSE(outcome.failure.empty());
}

TEST_CASE("an interruption ends a running child at once") {
    Scratch scratch;
    set_ab_interrupted();
    const AbChildResult r =
        run_child({"/bin/sh", "-c", "sleep 30"}, scratch.dir + "/log", std::chrono::seconds(20));
    const AbChildResult teardown = run_child({"/bin/sh", "-c", "exit 4"}, scratch.dir + "/log",
                                             std::chrono::seconds(20), false);
    clear_ab_interrupted();
    CHECK(r.interrupted);
    CHECK_FALSE(r.timed_out);
    CHECK(r.wall_seconds < 5);
    CHECK(r.exit_status == 128 + SIGKILL);
    CHECK(teardown.exit_status == 4);  // not interruptible: runs to its end
}

TEST_CASE("names reach the shell only quoted or made file-safe") {
    Scratch scratch;
    const std::string nasty = "a b;$(touch x)`id`'q'\"";
    const AbChildResult r = run_child({"/bin/sh", "-c", "printf %s " + shell_quote(nasty)},
                                      scratch.dir + "/log", std::chrono::seconds(10));
    CHECK(r.exit_status == 0);
    CHECK(scratch.read("log") == nasty);
    CHECK(file_safe(nasty) == "a_b___touch_x__id__q__");
    CHECK(file_safe("bulk-1.x_y") == "bulk-1.x_y");
}

TEST_CASE("Linux reference output without the value that matters is a failed run") {
    using nlohmann::json;
    CHECK_FALSE(
        linux_run_values(json::parse(R"({"end": {}, "error": "unable to connect"})"), true));
    CHECK_FALSE(linux_run_values(json::parse(R"({"end": {"sum_received": 5}})"), true));
    CHECK_FALSE(linux_run_values(json::parse(R"({"end": []})"), true));
    CHECK_FALSE(linux_run_values(
        json::parse(R"({"end": {"sum_received": {"bits_per_second": "fast"}}})"), true));
    CHECK_FALSE(linux_run_values(json(nullptr), true));
    const auto bulk =
        linux_run_values(json::parse(R"({"end": {"sum_received": {"bits_per_second": 8e9},
                                "sum_sent": {"retransmits": 3}}})"),
                         true);
    REQUIRE(bulk);
    CHECK(bulk->at("throughput_gbit_s") == Approx(8));
    CHECK(bulk->at("retransmits") == 3);
    CHECK_FALSE(linux_run_values(json::parse(R"({"metrics": {"rr_per_s": "x"}})"), false));
    const auto rr = linux_run_values(json::parse(R"({"metrics": {"rr_per_s": 1000}})"), false);
    REQUIRE(rr);
    CHECK(rr->at("rr_per_s") == 1000);
}

TEST_CASE("a variant named linux is refused at its key") {
    const std::string ab =
        std::regex_replace(std::string(kAb), std::regex("    utcp:"), "    linux:");
    const auto e = error_of([&] { AbPlan::from_config(load(std::string(kBase) + ab)); });
    CHECK(e.mark().line == 13);
    CHECK_THAT(e.what(), Catch::Contains("reserved for the Linux reference"));
}

TEST_CASE("ratios are against the first row with values, which the table names") {
    std::vector<AbTableRow> rows(3);
    rows[0].variant = "broken";
    rows[0].note = "no successful run";
    rows[1].variant = "second";
    rows[1].metrics["throughput_gbit_s"] = summarize({8});
    rows[2].variant = "third";
    rows[2].metrics["throughput_gbit_s"] = summarize({4});
    rows[2].metrics["rr_per_s"] = summarize({100});
    REQUIRE(baseline_row(rows) == std::optional<std::size_t>(1));
    const std::string table = format_table(rows);
    CHECK_THAT(table, Catch::Contains("4 (0.50x)"));
    CHECK_THAT(table, Catch::Contains("100 (-)"));  // the baseline has no rr_per_s
    rows[1].metrics.clear();
    rows[2].metrics.clear();
    CHECK_FALSE(baseline_row(rows));
}

TEST_CASE("a timeline with junk samples gives only its numeric points") {
    const auto timeline = nlohmann::json::parse(
        R"([{"t_ms": 0, "cwnd": 2048}, {"t_ms": "1", "cwnd": 1}, {"t_ms": 2, "cwnd": "big"},
            3, null, {"cwnd": 5}, {"t_ms": 4, "cwnd": 4096, "srtt_us": 50}])");
    const AbChartSeries cwnd = timeline_series("v", timeline, "cwnd", 1.0 / 1024);
    REQUIRE(cwnd.points.size() == 2);
    CHECK(cwnd.points[1] == std::make_pair(4.0, 4.0));
    CHECK(timeline_series("v", timeline, "srtt_us", 1).points.size() == 1);
    CHECK(timeline_series("v", nlohmann::json("not a list"), "cwnd", 1).points.empty());
}
