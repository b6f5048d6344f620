// Both engines built from one `tcp:` section report the same effective value for every key:
// tcp_common/engine_options.hpp is the only place a default lives (tcp_utcp's core Config and
// tcp_classic's EngineConfig derive from it rather than repeat it).
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "ip_test_support.hpp"
#include "tcp_engine_factory.hpp"
#include "wire_device.hpp"

using namespace netloom;
using namespace netloom::testing;

namespace {

using Values = std::map<std::string, std::string, std::less<>>;

Values engine_values(const tcp::EngineOptions& options) {
    Values values;
    tcp::visit_engine_options(options, [&](std::string_view key, std::string value) {
        values.emplace(std::string(key), std::move(value));
    });
    return values;
}

Values connection_values(const tcp::ConnectionOptions& options) {
    Values values;
    tcp::visit_connection_options(options, [&](std::string_view key, std::string value) {
        values.emplace(std::string(key), std::move(value));
    });
    return values;
}

struct Host {
    explicit Host(const std::string& link)
        : device(options(link), scheduler),
          env(scheduler, test_checksum(), device),
          layer(make_layer(env, "address: 10.9.0.1/24\n")) {}
    static drivers::WireOptions options(const std::string& link) {
        drivers::WireOptions o;
        o.link = link;
        o.mac = mac("02:00:00:00:00:01");
        return o;
    }
    ManualScheduler scheduler;
    drivers::WireDevice device;
    IpTestEnv env;
    std::unique_ptr<ip::Ipv4Layer> layer;
};

void compare(const std::string& yaml, const std::string& link) {
    INFO("tcp: " << yaml);
    const Config section = Config::load_string(yaml, "tcp.yaml");
    Host a(link + "-utcp"), b(link + "-classic");
    const auto utcp_engine =
        make_tcp_engine("tcp_utcp", section, *a.layer, a.scheduler, a.env.logger("tcp"));
    const auto classic_engine =
        make_tcp_engine("tcp_classic", section, *b.layer, b.scheduler, b.env.logger("tcp"));
    const Values u = engine_values(effective_options(*utcp_engine));
    const Values c = engine_values(effective_options(*classic_engine));
    REQUIRE(u.size() >= 30);
    for (const auto& [key, value] : u) {
        INFO("key " << key);
        REQUIRE(c.contains(key));
        CHECK(c.at(key) == value);
    }
    CHECK(u.size() == c.size());
    // The pure core of tcp_utcp sees the same per-connection values as its shell.
    const tcp::ConnectionOptions* core_options = connection_options_copy(*utcp_engine);
    REQUIRE(core_options != nullptr);
    const Values core = connection_values(*core_options);
    for (const auto& [key, value] : core) {
        INFO("core key " << key);
        CHECK(u.at(key) == value);
    }
}

}  // namespace

TEST_CASE("an empty tcp: section gives both engines the same effective values",
          "[tcp_engines][config]") {
    compare("{}", "defaults");
    // The defaults are the documented ones (spot checks of each kind of value).
    const tcp::EngineOptions o = tcp::read_engine_options(Config::load_string("{}", "tcp.yaml"));
    const Values v = engine_values(o);
    CHECK(v.at("cc") == "cubic");
    CHECK(v.at("ephemeral_ports") == "32768-60999");
    CHECK(v.at("time_wait_reuse_delay") == "1000000000ns");
    CHECK(v.at("backlog") == "128");
    CHECK(v.at("sack") == "true");
}

TEST_CASE("a tcp: section with every kind of key set reaches both engines alike",
          "[tcp_engines][config]") {
    compare(
        "{cc: newreno, sack: false, timestamps: false, mss: 1200, rcvbuf: 64KiB, backlog: 7, "
        "syn_backlog: 9, ephemeral_ports: 2000-2999, time_wait_reuse_delay: 5ms, nodelay: true, "
        "keepalive: true, keepalive_idle: 10s, max_time_wait: 3, delack_timeout: 10ms}",
        "set");
}

TEST_CASE("syn_cookies takes true, false or always, the same in both engines",
          "[tcp_engines][config]") {
    compare("{syn_cookies: always}", "cookies-always");
    auto read = [](const std::string& yaml) {
        return tcp::read_engine_options(Config::load_string(yaml, "tcp.yaml"));
    };
    const tcp::EngineOptions always = read("{syn_cookies: always}");
    CHECK(always.syn_cookies);
    CHECK(always.syn_cookies_always);
    CHECK(engine_values(always).at("syn_cookies") == "always");
    const tcp::EngineOptions off = read("{syn_cookies: false}");
    CHECK_FALSE(off.syn_cookies);
    CHECK_FALSE(off.syn_cookies_always);
    CHECK(engine_values(off).at("syn_cookies") == "false");
    const tcp::EngineOptions on = read("{syn_cookies: yes}");
    CHECK(on.syn_cookies);
    CHECK_FALSE(on.syn_cookies_always);
    CHECK(engine_values(on).at("syn_cookies") == "true");
    CHECK_THROWS_WITH(read("{syn_cookies: sometimes}"),
                      Catch::Contains("syn_cookies must be true, false or always"));
}
