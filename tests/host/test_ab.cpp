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
#include "ab_results.hpp"
#include "ab_stats.hpp"
#include "config_error_of.hpp"

using namespace netloom;
using namespace netloom::host;

namespace {

const char* kBase = R"(scheduler: {use: epoll}
stacks:
  server:
    device: {use: wire, link: lan0}
    tcp: {use: tcp_utcp}
    apps: [{use: echo, role: server, port: 7}]
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

using netloom::testing::error_of;

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
    // The server's own echo is gone: the workload's apps replace every stack's apps.
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
    CHECK(count_of(svg, "no data") == 6);
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

TEST_CASE("shortened workloads keep their apps with a tenth of the bytes, counts and durations") {
    AbPlan plan = AbPlan::from_config(load(std::string(kBase) + kAb + R"(    rr:
      client: [{use: rr, role: client, target: 10.0.0.2, duration: 2s, size: 64}]
      server: [{use: tcp_conns, role: server, count: 4000, transactions: 5}]
)"));
    plan.shorten(10);
    CHECK(plan.shortened == 10);
    std::vector<AbReportSlot> reports;
    const YAML::Node bulk = plan.derive(plan.variants[0], plan.workloads[0], "/tmp/r", reports);
    CHECK(bulk["stacks"]["client"]["apps"][0]["bytes"].as<std::string>() == "104857");
    const YAML::Node rr = plan.derive(plan.variants[0], plan.workloads[1], "/tmp/r", reports);
    CHECK(rr["stacks"]["client"]["apps"][0]["duration"].as<std::string>() == "200000us");
    CHECK(rr["stacks"]["client"]["apps"][0]["size"].as<std::string>() == "64");  // not a count
    CHECK(rr["stacks"]["server"]["apps"][0]["count"].as<std::string>() == "400");
    CHECK(rr["stacks"]["server"]["apps"][0]["transactions"].as<std::string>() == "1");
    CHECK(rr["run"]["duration"].as<std::string>() == "60000ms");  // the guard stays
}

TEST_CASE("a failed run's reason is the app's own error, not the log's last line") {
    Scratch scratch;
    std::ofstream(scratch.dir + "/client.app0.json")
        << R"x({"ok": false, "metrics": {"rr_per_s": 0}, "error": "connect to 10.0.0.2:5004: )x"
           R"x(local_error (tcp_utcp: no free ephemeral port for this destination)"})x";
    std::ofstream(scratch.dir + "/output.log")
        << "06:00:00.001 info  [host] running 2 stack(s)\n"
           "06:00:00.900 info  [host] every finite app has finished\n";
    AbChildResult child;
    child.exit_status = 1;
    const AbRunOutcome outcome =
        collect_run(child, {{scratch.dir + "/client.app0.json", "client/app0/rr"}},
                    scratch.dir + "/stats.json", scratch.dir + "/output.log");
    CHECK(outcome.failure ==
          "client/app0/rr failed: connect to 10.0.0.2:5004: local_error (tcp_utcp: no free "
          "ephemeral port for this destination) (exit status 1)");
}

TEST_CASE("without an app's error, a failed run names its first error line, signal or timeout") {
    Scratch scratch;
    const std::string log = scratch.dir + "/output.log";
    std::ofstream(log) << "06:00:00.001 info  [host] running 2 stack(s)\n"
                          "06:00:00.002 \x1b[31merror\x1b[m [app.tcp_bulk] bind: port 5001 in use\n"
                          "06:00:01.000 error [host] 1 finite app(s) had not finished\n"
                          "06:00:01.001 info  [host] bye\n";
    CHECK(first_error_line(log) == "[app.tcp_bulk] bind: port 5001 in use");
    AbChildResult child;
    child.exit_status = 1;
    const std::vector<AbReportSlot> none;
    CHECK(collect_run(child, none, scratch.dir + "/stats.json", log).failure ==
          "exit status 1: [app.tcp_bulk] bind: port 5001 in use");

    const AbChildResult crashed = run_child({"/bin/sh", "-c", "echo last words; kill -SEGV $$"},
                                            scratch.dir + "/crash.log", std::chrono::seconds(10));
    CHECK(crashed.signal == SIGSEGV);
    CHECK_THAT(
        collect_run(crashed, none, scratch.dir + "/stats.json", scratch.dir + "/crash.log").failure,
        Catch::StartsWith("killed by signal 11 (Segmentation fault)") &&
            !Catch::Contains("last words"));
    child.timed_out = true;
    CHECK(collect_run(child, none, scratch.dir + "/stats.json", log).failure ==
          "killed after the timeout (ab.timeout): [app.tcp_bulk] bind: port 5001 in use");
    // Only when nothing better exists: the last line, saying it is only that.
    std::ofstream(scratch.dir + "/plain.log") << "starting\nlast words\n";
    child = {};
    child.exit_status = 3;
    CHECK(
        collect_run(child, none, scratch.dir + "/stats.json", scratch.dir + "/plain.log").failure ==
        "exit status 3: no error logged; last line: last words");
    CHECK(first_error_line(scratch.dir + "/missing.log").empty());
    // An exception that escaped an app's task is printed by the host without a time stamp.
    std::ofstream(scratch.dir + "/task.log")
        << "06:00:00.001 info  [host] running 2 stack(s)\n"
           "netloom: note: something harmless\n"
           "netloom: uncaught exception in a task: tcp_utcp: no free ephemeral port\n"
           "06:00:30.000 error [host] 1 finite app(s) had not finished when the run stopped\n";
    CHECK(first_error_line(scratch.dir + "/task.log") ==
          "netloom: uncaught exception in a task: tcp_utcp: no free ephemeral port");
}

TEST_CASE("the table and the JSON say why a variant has no number") {
    const Config root = load(std::string(kBase) + kAb);
    const AbPlan plan = AbPlan::from_config(root);
    std::vector<AbRunRecord> records(4);
    records[0] = {1, "bulk", "utcp", "/tmp/d1", {}, {{{"throughput_gbit_s", 8}}, nullptr, ""}};
    records[1] = {1, "bulk", "classic", "/tmp/d2", {}, {{}, nullptr, "client/app0 failed: boom"}};
    records[2] = {2, "bulk", "utcp", "/tmp/d3", {}, {{}, nullptr, "killed by signal 9 (Killed)"}};
    records[3] = {2, "bulk", "classic", "/tmp/d4", {}, {{}, nullptr, "later reason"}};
    AbValues values;
    values["bulk"]["utcp"]["throughput_gbit_s"] = {8};
    const std::string text = ab_tables_text(plan, {"utcp", "classic"}, values, records, 2);
    CHECK_THAT(text, Catch::Contains("classic  no successful run: client/app0 failed: boom\n"));
    CHECK_THAT(text, Catch::Contains(
                         "note: utcp: 1 of 2 runs failed (run 2: killed by signal 9 (Killed))\n"));
    CHECK(count_of(text, "note:") == 1);  // classic's row already says why
    const nlohmann::json j = ab_results_json(root, plan, 2, records, {"utcp", "classic"}, values);
    CHECK(j["runs"][1]["error"] == "client/app0 failed: boom");
    CHECK(j["runs"][1]["log"] == "/tmp/d2/output.log");
    CHECK_FALSE(j["runs"][0].contains("log"));
    CHECK(j["failures"]["bulk"]["classic"].size() == 2);
    CHECK(j["failures"]["bulk"]["classic"][1]["error"] == "later reason");
    CHECK(j["workload_scale"] == 1.0);
}

TEST_CASE("the chart has a panel for every workload's headline figure") {
    AbValues values;
    values["bulk"]["a"]["throughput_gbit_s"] = {8, 9};
    values["rr"]["a"]["latency_p50_us"] = {20};
    values["rr"]["a"]["latency_p99_us"] = {40};
    values["crr"]["a"]["connections_per_s"] = {3000};
    values["crr"]["b"]["connections_per_s"] = {2500};
    values["idle_conns"]["a"]["connections_per_s"] = {90000};
    values["idle_conns"]["a"]["bytes_per_idle_connection"] = {1500};
    values["idle_conns"]["b"]["bytes_per_idle_connection"] = {2100};
    const AbChartData data =
        ab_chart_data("t", {"a", "b"}, {"bulk", "rr", "crr", "idle_conns"}, values, {});
    REQUIRE(data.connections.size() == 2);
    CHECK(data.connections[0].label == "crr");
    CHECK(data.connections[0].bars.size() == 2);
    CHECK(data.connections[1].label == "idle_conns");
    REQUIRE(data.memory.size() == 1);
    CHECK(data.memory[0].bars[1].variant == "b");
    CHECK(data.memory[0].bars[1].median == 2100);
    const std::string svg = render_svg(data);
    xml_elements(svg);
    CHECK(count_of(svg, "class=\"bar\"") == 1 + 2 + 3 + 2);
    CHECK_THAT(svg, Catch::Contains("Connections per second"));
    CHECK_THAT(svg, Catch::Contains("Memory per idle connection"));
    CHECK(count_of(svg, "no data") == 2);  // no bulk timeline: cwnd and RTT panels
}
