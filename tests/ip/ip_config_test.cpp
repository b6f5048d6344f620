// The `ipv4` plugin's configuration: defaults, accepted values, and every refusal going through
// Config (ConfigError naming the key), plus the start-up contract (attach + gratuitous ARP) and
// the counter names the integration tests read.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>

#include "ip_test_support.hpp"

using namespace netloom;
using namespace netloom::testing;
using namespace std::chrono_literals;

namespace {

struct Fixture {
    ManualScheduler scheduler;
    FakeDevice device;
    IpTestEnv env{scheduler, test_checksum(), device};
};

std::string error_of(const std::string& yaml) {
    Fixture f;
    try {
        make_layer(f.env, yaml);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("defaults follow the documentation", "[ip][config]") {
    Fixture f;
    auto layer = make_layer(f.env, "address: 10.0.0.2/24");
    const auto& o = layer->options();
    CHECK(layer->address() == wire::Ipv4Cidr{kOurIp, 24});
    CHECK_FALSE(o.gateway);
    CHECK(o.ttl == 64);
    CHECK(o.arp.cache_size == 512);
    CHECK(o.arp.lifetime == 60s);
    CHECK(o.arp.retry == 1s);
    CHECK(o.arp.retries == 3);
    CHECK(o.arp.queue == 16);
    CHECK(o.arp.queue_total == 256);
    CHECK(o.reassembly.memory == 1024 * 1024);
    CHECK(o.reassembly.timeout == 30s);
    CHECK(o.reassembly.max_fragments == 64);
    CHECK(o.icmp_rate == 100);
    CHECK(o.icmp_burst == 50);
    CHECK(o.udp_queue == 256);
    CHECK(layer->mtu() == 1500);
}

TEST_CASE("every key is read", "[ip][config]") {
    Fixture f;
    auto layer = make_layer(f.env, R"(
use: ipv4
address: 192.168.7.20/16
gateway: 192.168.0.1
ttl: 17
arp_cache_size: 9
arp_lifetime: 5s
arp_retry: 200ms
arp_retries: 7
arp_queue: 2
arp_queue_total: 30
reassembly_memory: 64KiB
reassembly_timeout: 2s
reassembly_max_fragments: 10
icmp_rate: 3
icmp_burst: 4
udp_queue: 5
)");
    const auto& o = layer->options();
    CHECK(o.address.prefix_length == 16);
    REQUIRE(o.gateway);
    CHECK(*o.gateway == ip4("192.168.0.1"));
    CHECK(o.ttl == 17);
    CHECK(o.arp.cache_size == 9);
    CHECK(o.arp.lifetime == 5s);
    CHECK(o.arp.retry == 200ms);
    CHECK(o.arp.retries == 7);
    CHECK(o.arp.queue == 2);
    CHECK(o.arp.queue_total == 30);
    CHECK(o.reassembly.memory == 64 * 1024);
    CHECK(o.reassembly.timeout == 2s);
    CHECK(o.reassembly.max_fragments == 10);
    CHECK(o.icmp_rate == 3);
    CHECK(o.icmp_burst == 4);
    CHECK(o.udp_queue == 5);
}

TEST_CASE("bad values are refused with the key named", "[ip][config]") {
    struct Case {
        const char* yaml;
        const char* key;
    };
    const Case cases[] = {
        {"ttl: 3", "address"},
        {"address: 10.0.0.2", "address"},
        {"address: 10.0.0.256/24", "address"},
        {"address: 10.0.0.0/24", "address"},
        {"address: 10.0.0.255/24", "address"},
        {"address: 224.0.0.1/4", "address"},
        {"address: 127.0.0.1/8", "address"},
        {"address: 0.0.0.0/0", "address"},
        {"address: 10.0.0.2/24\ngateway: 192.168.1.1", "gateway"},
        {"address: 10.0.0.2/24\ngateway: 10.0.0.2", "gateway"},
        {"address: 10.0.0.2/24\ngateway: 10.0.0.255", "gateway"},
        {"address: 10.0.0.2/24\ngateway: nope", "gateway"},
        {"address: 10.0.0.2/24\nttl: 0", "ttl"},
        {"address: 10.0.0.2/24\nttl: 256", "ttl"},
        {"address: 10.0.0.2/24\narp_cache_size: 0", "arp_cache_size"},
        {"address: 10.0.0.2/24\narp_lifetime: 0s", "arp_lifetime"},
        {"address: 10.0.0.2/24\narp_retry: soon", "arp_retry"},
        {"address: 10.0.0.2/24\narp_retries: 0", "arp_retries"},
        {"address: 10.0.0.2/24\narp_queue: 0", "arp_queue"},
        {"address: 10.0.0.2/24\nreassembly_memory: 1KiB", "reassembly_memory"},
        {"address: 10.0.0.2/24\nreassembly_timeout: 0s", "reassembly_timeout"},
        {"address: 10.0.0.2/24\nreassembly_max_fragments: 0", "reassembly_max_fragments"},
        {"address: 10.0.0.2/24\nicmp_rate: -1", "icmp_rate"},
        {"address: 10.0.0.2/24\nudp_queue: 0", "udp_queue"},
        {"address: 10.0.0.2/24\narp_cache_sise: 10", "arp_cache_sise"},
    };
    for (const Case& c : cases) {
        INFO(c.yaml);
        const std::string message = error_of(c.yaml);
        CHECK_THAT(message, Catch::Contains(c.key));
    }
    // The typo gets a suggestion.
    CHECK_THAT(error_of("address: 10.0.0.2/24\narp_cache_sise: 10"),
               Catch::Contains("arp_cache_size"));
}

TEST_CASE("a device below the IPv4 minimum MTU is refused", "[ip][config]") {
    ManualScheduler scheduler;
    FakeDevice device(kOurMac, 60);
    IpTestEnv env(scheduler, test_checksum(), device);
    CHECK_THROWS_AS(make_layer(env, "address: 10.0.0.2/24"), std::invalid_argument);
}

TEST_CASE("start attaches the device and announces the address", "[ip]") {
    Fixture f;
    auto layer = make_layer(f.env, "address: 10.0.0.2/24");
    CHECK_FALSE(f.device.attached());
    CHECK(f.device.sent.empty());
    layer->start();
    CHECK(f.device.attached());
    REQUIRE(f.device.sent.size() == 1);
    const auto arp = arp_of(f.device.sent[0]);
    REQUIRE(arp);
    CHECK(arp->operation == wire::ArpOperation::request);
    CHECK(arp->sender_ip == kOurIp);
    CHECK(arp->target_ip == kOurIp);  // RFC 5227 announcement
    CHECK(arp->sender_mac == kOurMac);
    const auto eth = wire::EthernetView::parse(f.device.sent[0].bytes());
    CHECK(eth->destination() == MacAddress::broadcast());
    CHECK(counter(*layer, "arp_tx_gratuitous") == 1);
}

TEST_CASE("the counters the issue names are always reported", "[ip]") {
    Fixture f;
    auto layer = make_layer(f.env, "address: 10.0.0.2/24");
    const char* names[] = {"eth_rx_frames",
                           "eth_drop_not_for_us",
                           "eth_drop_unknown_ethertype",
                           "eth_drop_truncated",
                           "arp_rx_requests",
                           "arp_rx_replies",
                           "arp_tx_requests",
                           "arp_tx_replies",
                           "arp_drop_malformed",
                           "arp_cache_evictions",
                           "arp_resolve_failures",
                           "arp_queue_drops",
                           "ipv4_rx",
                           "ipv4_tx",
                           "ipv4_drop_bad_version",
                           "ipv4_drop_bad_header_length",
                           "ipv4_drop_bad_total_length",
                           "ipv4_drop_bad_checksum",
                           "ipv4_drop_not_for_us",
                           "ipv4_drop_no_transport",
                           "ipv4_frag_tx",
                           "reasm_ok",
                           "reasm_drop_overlap",
                           "reasm_drop_timeout",
                           "reasm_drop_memory",
                           "reasm_drop_too_big",
                           "reasm_drop_too_many_fragments",
                           "reasm_bytes_current",
                           "reasm_bytes_peak",
                           "reasm_datagrams_current",
                           "icmp_rx_echo_requests",
                           "icmp_tx_echo_replies",
                           "icmp_tx_unreachable",
                           "icmp_rate_limited",
                           "icmp_drop_bad_checksum",
                           "icmp_rx_errors",
                           "udp_rx",
                           "udp_tx",
                           "udp_drop_bad_checksum",
                           "udp_drop_no_port",
                           "udp_drop_queue_full",
                           "udp_drop_malformed"};
    for (const char* name : names) {
        INFO(name);
        CHECK(counter(*layer, name) == 0);
    }
    // Names are unique, and every gauge has its peak.
    std::vector<std::string> seen;
    layer->visit_counters([&](std::string_view name, std::uint64_t) { seen.emplace_back(name); });
    std::sort(seen.begin(), seen.end());
    CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
    for (const auto& name : seen) {
        const auto at = name.rfind("_current");
        if (at == std::string::npos || at + 8 != name.size()) continue;
        INFO(name);
        CHECK(std::binary_search(seen.begin(), seen.end(), name.substr(0, at) + "_peak"));
    }
}

TEST_CASE("ICMP and UDP cannot be taken over by a transport", "[ip]") {
    Fixture f;
    auto layer = make_layer(f.env, "address: 10.0.0.2/24");
    CHECK_THROWS_AS(layer->register_transport(IpProtocol::udp, nullptr), std::invalid_argument);
    CHECK_THROWS_AS(layer->register_transport(IpProtocol::icmp, nullptr), std::invalid_argument);
    CHECK_NOTHROW(layer->register_transport(IpProtocol::tcp, nullptr));
}
