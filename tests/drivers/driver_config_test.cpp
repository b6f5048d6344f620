// The drivers' YAML keys: parsing, defaults, and errors at the offending key.
#include <catch2/catch.hpp>

#include "device_identity.hpp"
#include "driver_test_support.hpp"
#include "manual_scheduler.hpp"

using namespace netloom;
using namespace netloom::testing;
using namespace std::chrono_literals;

namespace {

Config yaml(const std::string& text) {
    return Config::load_string(text, "test.yaml");
}

// The ConfigError message for `text` built as a device, or "" when it builds.
std::string device_error(TestEnv& env, const std::string& text) {
    try {
        env.device_from_yaml(text);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return {};
}

}  // namespace

TEST_CASE("config: bit rates") {
    using drivers::parse_bit_rate;
    CHECK(parse_bit_rate("0") == 0u);
    CHECK(parse_bit_rate("1000") == 1000u);
    CHECK(parse_bit_rate("64kbit") == 64'000u);
    CHECK(parse_bit_rate("100Mbit") == 100'000'000u);
    CHECK(parse_bit_rate("2.5Gbit") == 2'500'000'000u);
    CHECK(parse_bit_rate("10Gbit") == 10'000'000'000u);
    CHECK_FALSE(parse_bit_rate("10G"));
    CHECK_FALSE(parse_bit_rate("10Gbps"));
    CHECK_FALSE(parse_bit_rate("-1Gbit"));
    CHECK_FALSE(parse_bit_rate("fast"));
    CHECK_FALSE(parse_bit_rate(""));
}

TEST_CASE("config: wire keys") {
    auto o = drivers::WireOptions::from_config(
        yaml("{use: wire, link: lan0, mac: '02:00:00:00:00:01', mtu: 9000, rate: 10Gbit,"
             " latency: 50us, queue: 128}"),
        "server");
    CHECK(o.link == "lan0");
    CHECK(o.mac.to_string() == "02:00:00:00:00:01");
    CHECK(o.mtu == 9000);
    CHECK(o.rate_bps == 10'000'000'000u);
    CHECK(o.latency == 50us);
    CHECK(o.queue == 128);

    auto d = drivers::WireOptions::from_config(yaml("{link: lan0}"), "server");
    CHECK(d.mtu == 1500);
    CHECK(d.rate_bps == 0);
    CHECK(d.latency == 0ns);
    CHECK(d.queue == 4096);
}

TEST_CASE("config: default MACs are stable, unicast, locally administered and distinct") {
    auto server = drivers::derived_mac("server", "wire:lan0");
    auto client = drivers::derived_mac("client", "wire:lan0");
    CHECK(server == drivers::derived_mac("server", "wire:lan0"));
    CHECK(server != client);
    CHECK(drivers::derived_mac("ab", "c") != drivers::derived_mac("a", "bc"));
    for (const auto& mac : {server, client}) {
        CHECK_FALSE(mac.is_multicast());
        CHECK((mac.bytes[0] & 0x02) != 0);
    }
    auto o = drivers::WireOptions::from_config(yaml("{link: lan0}"), "server");
    CHECK(o.mac == server);
}

TEST_CASE("config: bad values fail at their key") {
    ManualScheduler sched;
    TestEnv env(sched);
    CHECK_THAT(device_error(env, "{use: wire, link: x, mac: '02:00:00:00:00'}"),
               Catch::Contains("mac"));
    CHECK_THAT(device_error(env, "{use: wire, link: x, mac: '01:00:5e:00:00:01'}"),
               Catch::Contains("unicast"));
    CHECK_THAT(device_error(env, "{use: wire, link: x, mtu: 67}"), Catch::Contains("mtu"));
    CHECK_THAT(device_error(env, "{use: wire, link: x, rate: 10G}"), Catch::Contains("10Gbit"));
    CHECK_THAT(device_error(env, "{use: wire, link: x, queue: 0}"), Catch::Contains("queue"));
    CHECK_THAT(device_error(env, "{use: wire, link: x, latncy: 1ms}"),
               Catch::Contains("did you mean 'latency'"));
    CHECK_THAT(device_error(env, "{use: wire}"), Catch::Contains("link"));
    CHECK_THAT(device_error(env, "{use: impair, loss: 1.5, inner: {use: wire, link: x}}"),
               Catch::Contains("loss"));
    CHECK_THAT(device_error(env, "{use: impair, direction: up, inner: {use: wire, link: x}}"),
               Catch::Contains("direction"));
    CHECK_THAT(device_error(env, "{use: impair, loss: 0.1}"), Catch::Contains("inner"));
    CHECK_THAT(device_error(env, "{use: pcap, inner: {use: wire, link: x}}"),
               Catch::Contains("file"));
    CHECK_THAT(device_error(env,
                            "{use: pcap, file: /nonexistent-dir/a.pcap,"
                            " inner: {use: wire, link: x}}"),
               Catch::Contains("nonexistent-dir"));
    CHECK_THAT(device_error(env, "{use: tap, name: a-name-far-too-long-for-linux}"),
               Catch::Contains("name"));
    CHECK_THAT(device_error(env, "{use: tap, name: t0, mtu: 65535}"), Catch::Contains("mtu"));
}

TEST_CASE("config: decorators nest and forward the inner device's identity") {
    ManualScheduler sched;
    TestEnv env(sched, "server");
    auto device = env.device_from_yaml(
        "{use: impair, seed: 7, loss: 0.01, duplicate: 0.02, reorder: 0.03, corrupt: 0.04,"
        " delay: 2ms, jitter: 1ms, direction: tx,"
        " inner: {use: wire, link: nest0, mac: '02:00:00:00:00:42', mtu: 1280}}");
    CHECK(device->describe() == "impair > wire(nest0)");
    CHECK(device->mtu() == 1280);
    CHECK(device->mac().to_string() == "02:00:00:00:00:42");
    auto* impair = dynamic_cast<drivers::ImpairDevice*>(device.get());
    REQUIRE(impair);
    CHECK(impair->tx_path() != nullptr);
    CHECK(impair->rx_path() == nullptr);
    // Only its own counters: the host lists the inner device it built separately.
    std::uint64_t impair_counters = 0, others = 0;
    device->visit_counters([&](std::string_view name, std::uint64_t) {
        (name.starts_with("impair_") ? impair_counters : others) += 1;
    });
    CHECK(impair_counters == 14);  // seven (five faults, queue drops, outage), both directions
    CHECK(others == 0);

    auto options = drivers::ImpairOptions::from_config(
        yaml("{seed: 7, loss: 0.01, duplicate: 0.02, reorder: 0.03, corrupt: 0.04, delay: 2ms,"
             " jitter: 1ms, reorder_hold: 5ms, direction: rx, inner: {}}"));
    CHECK(options.seed == 7);
    CHECK(options.parameters.loss == 0.01);
    CHECK(options.parameters.duplicate == 0.02);
    CHECK(options.parameters.reorder == 0.03);
    CHECK(options.parameters.corrupt == 0.04);
    CHECK(options.parameters.delay == 2ms);
    CHECK(options.parameters.jitter == 1ms);
    CHECK(options.parameters.reorder_hold == 5ms);
    CHECK_FALSE(options.impair_tx);
    CHECK(options.impair_rx);
}

TEST_CASE("config: tap keys") {
    auto o = drivers::TapOptions::from_config(
        yaml("{use: tap, name: nl0, mtu: 9000, persist: false, up: false}"), "server");
    CHECK(o.name == "nl0");
    CHECK(o.mtu == 9000);
    REQUIRE(o.persist.has_value());
    CHECK_FALSE(*o.persist);
    CHECK_FALSE(o.up);
    CHECK(o.mac == drivers::derived_mac("server", "tap:nl0"));
    auto d = drivers::TapOptions::from_config(yaml("{name: nl0}"), "server");
    CHECK_FALSE(d.persist.has_value());
    CHECK(d.up);
    CHECK(d.mtu == 1500);
}
