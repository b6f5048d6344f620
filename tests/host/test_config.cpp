// Config: typed getters, sizes and durations, and errors that name file:line:column.
#include <catch2/catch.hpp>

#include "config_error_of.hpp"
#include "netloom/config.hpp"

using namespace netloom;
using namespace std::chrono_literals;

namespace {
using netloom::testing::error_of;
}  // namespace

TEST_CASE("sizes accept binary and decimal units") {
    CHECK(parse_size("1500") == 1500u);
    CHECK(parse_size("64KiB") == 65536u);
    CHECK(parse_size("4MiB") == 4u * 1024 * 1024);
    CHECK(parse_size("1GiB") == 1073741824u);
    CHECK(parse_size("10k") == 10000u);
    CHECK(parse_size("1.5KiB") == 1536u);
    CHECK_FALSE(parse_size("").has_value());
    CHECK_FALSE(parse_size("KiB").has_value());
    CHECK_FALSE(parse_size("12 parsecs").has_value());
    CHECK_FALSE(parse_size("0.3B").has_value());  // not a whole number of bytes
    CHECK_FALSE(parse_size("-5").has_value());
}

TEST_CASE("durations need a unit unless zero") {
    CHECK(parse_duration("200ms") == 200ms);
    CHECK(parse_duration("30s") == 30s);
    CHECK(parse_duration("500us") == 500us);
    CHECK(parse_duration("2min") == 120s);
    CHECK(parse_duration("0") == 0ns);
    CHECK(parse_duration("1.5s") == 1500ms);
    CHECK_FALSE(parse_duration("30").has_value());
    CHECK_FALSE(parse_duration("fast").has_value());
}

TEST_CASE("nearest suggests plausible typos only") {
    std::vector<std::string> keys{"sndbuf", "rcvbuf", "cc", "mss"};
    CHECK(nearest("sndbuff", keys) == "sndbuf");
    CHECK(nearest("rcvbf", keys) == "rcvbuf");
    CHECK(nearest("completely_different", keys).empty());
}

TEST_CASE("typed getters read values and defaults") {
    Config c = Config::load_string(
        "name: lan0\nmtu: 9000\nloss: 0.05\nup: true\nbuf: 256KiB\nwait: 30s\nlist: [a, b]\n",
        "t.yaml");
    CHECK(c.get_string("name") == "lan0");
    CHECK(c.get_int("mtu", {}, 68, 65535) == 9000);
    CHECK(c.get_double("loss", {}, 0, 1) == Approx(0.05));
    CHECK(c.get_bool("up"));
    CHECK(c.get_size("buf") == 262144u);
    CHECK(c.get_duration("wait") == 30s);
    CHECK(c.get_string_list("list") == std::vector<std::string>{"a", "b"});
    CHECK(c.get_int("absent", 7) == 7);
    CHECK_NOTHROW(c.done());
}

TEST_CASE("a wrong type names file, line, column, key, expected and found") {
    Config c = Config::load_string("stacks:\n  a:\n    mtu: big\n", "cfg.yaml");
    Config a = c.child("stacks").child("a");
    ConfigError e = error_of([&] { a.get_int("mtu", {}, 68, 65535); });
    CHECK(e.mark().file == "cfg.yaml");
    CHECK(e.mark().line == 3);
    CHECK(e.mark().column == 10);
    std::string what = e.what();
    CHECK(what.find("cfg.yaml:3:10") == 0);
    CHECK(what.find("stacks.a.mtu") != std::string::npos);
    CHECK(what.find("an integer in 68..65535") != std::string::npos);
    CHECK(what.find("\"big\"") != std::string::npos);
}

TEST_CASE("out of range values are rejected") {
    Config c = Config::load_string("loss: 1.5\nmtu: 10\n", "r.yaml");
    CHECK_THROWS_AS(c.get_double("loss", {}, 0, 1), ConfigError);
    CHECK_THROWS_AS(c.get_int("mtu", {}, 68, 9000), ConfigError);
}

TEST_CASE("durations print in the largest exact unit") {
    CHECK(format_duration(0ns) == "0");
    CHECK(format_duration(1ns) == "1ns");
    CHECK(format_duration(1500us) == "1500us");
    CHECK(format_duration(1ms) == "1ms");
    CHECK(format_duration(120s) == "2min");
    CHECK(format_duration(24h) == "24h");
}

TEST_CASE("a bounded duration accepts its bounds and names them when out of range") {
    Config c = Config::load_string("low: 500us\nhigh: 2h\nedge: 1ms\ntop: 1h\n", "d.yaml");
    CHECK(c.get_duration("edge", {}, 1ms, 1h) == 1ms);
    CHECK(c.get_duration("top", {}, 1ms, 1h) == 1h);
    CHECK(c.get_duration("absent", 5s, 1ms, 1h) == 5s);

    ConfigError low = error_of([&] { c.get_duration("low", {}, 1ms, 1h); });
    CHECK(std::string(low.what()) ==
          "d.yaml:1:6: low: expected a duration from 1ms to 1h, found \"500us\"");
    ConfigError high = error_of([&] { c.get_duration("high", {}, 1ms, 1h); });
    CHECK(std::string(high.what()) ==
          "d.yaml:2:7: high: expected a duration from 1ms to 1h, found \"2h\"");
}

TEST_CASE("a duration bounded on one side says which side") {
    Config c = Config::load_string("stacks:\n  a:\n    timeout: 0s\n    slack: 2s\n", "o.yaml");
    Config a = c.child("stacks").child("a");
    ConfigError zero = error_of([&] { a.get_duration("timeout", {}, 1ns); });
    CHECK(std::string(zero.what()) ==
          "o.yaml:3:14: stacks.a.timeout: expected a duration of at least 1ns, found \"0s\"");
    ConfigError slack = error_of([&] { a.get_duration("slack", {}, 0ns, 1s); });
    CHECK(std::string(slack.what()) ==
          "o.yaml:4:12: stacks.a.slack: expected a duration from 0 to 1s, found \"2s\"");
    // Unbounded, a malformed value still gets the example text.
    Config bad = Config::load_string("wait: 30\n", "b.yaml");
    ConfigError e = error_of([&] { bad.get_duration("wait"); });
    CHECK(std::string(e.what()) ==
          "b.yaml:1:7: wait: expected a duration like 200ms, 30s or 500us, found \"30\"");
}

TEST_CASE("an unknown key gets a did-you-mean at its own position") {
    Config c = Config::load_string("use: tcp_utcp\nsndbuff: 64KiB\n", "k.yaml");
    c.get_string("use");
    c.get_size("sndbuf", 1024);
    ConfigError e = error_of([&] { c.done(); });
    CHECK(e.mark().line == 2);
    CHECK(e.mark().column == 1);
    CHECK(std::string(e.what()).find("did you mean 'sndbuf'") != std::string::npos);
}

TEST_CASE("a missing required key is reported at the mapping") {
    Config c = Config::load_string("device:\n  inner: {}\n", "m.yaml");
    Config device = c.child("device");
    ConfigError e = error_of([&] { device.get_string("use"); });
    CHECK(std::string(e.what()).find("device.use: required key is missing") != std::string::npos);
    CHECK(e.mark().line == 2);
}

TEST_CASE("choices list the allowed values") {
    Config c = Config::load_string("cc: cubik\n", "c.yaml");
    ConfigError e = error_of([&] { c.get_choice("cc", {"newreno", "cubic"}); });
    std::string what = e.what();
    CHECK(what.find("one of newreno|cubic") != std::string::npos);
    CHECK(what.find("did you mean 'cubic'") != std::string::npos);
}

TEST_CASE("YAML syntax errors carry the parser's position") {
    ConfigError e = error_of([] { Config::load_string("a: [1, 2\nb: c\n", "s.yaml"); });
    CHECK(e.mark().file == "s.yaml");
    CHECK(e.mark().line >= 1);
    CHECK(std::string(e.what()).find("YAML syntax error") != std::string::npos);
}

TEST_CASE("a missing file is a config error naming it") {
    ConfigError e = error_of([] { Config::load_file("/nonexistent/netloom.yaml"); });
    CHECK(std::string(e.what()).find("/nonexistent/netloom.yaml") == 0);
}

TEST_CASE("overrides replace values, with * matching every key") {
    Config c =
        Config::load_string("stacks:\n  a: {tcp: {use: x}}\n  b: {tcp: {use: x}}\n", "o.yaml");
    Config o = c.with_override("stacks.*.tcp.use", "y");
    CHECK(o.child("stacks").child("a").child("tcp").get_string("use") == "y");
    CHECK(o.child("stacks").child("b").child("tcp").get_string("use") == "y");
    CHECK(c.child("stacks").child("a").child("tcp").get_string("use") == "x");  // original intact
    CHECK_THROWS_AS(c.with_override("nothing.here", "1"), ConfigError);
}

TEST_CASE("lists of mappings are validated item by item") {
    Config c = Config::load_string("apps:\n  - {use: echo}\n  - 5\n", "l.yaml");
    ConfigError e = error_of([&] { c.child_list("apps"); });
    CHECK(e.mark().line == 3);
    CHECK(std::string(e.what()).find("apps[1]") != std::string::npos);
}
