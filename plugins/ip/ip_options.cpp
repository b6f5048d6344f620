// Reading and validating the `ipv4` plugin's keys.
#include "ip_options.hpp"

#include <string>

namespace netloom::ip {
namespace {

using namespace std::chrono_literals;
using wire::Ipv4Address;
using wire::Ipv4Cidr;

/// Why `address` cannot be a host address (RFC 1122 3.2.1.3), or nullptr when it can.
const char* unusable_host(Ipv4Address address) {
    if (address.is_unspecified()) return "the unspecified address";
    if (address.is_broadcast()) return "the limited broadcast address";
    if (address.is_multicast()) return "a multicast address";
    if (address.is_loopback()) return "a loopback address";
    if ((address.to_uint() >> 28) == 0xf) return "a reserved (240/4) address";
    return nullptr;
}

/// For prefixes up to /30 the first and last addresses are the network and its broadcast.
const char* unusable_in_subnet(Ipv4Address address, const Ipv4Cidr& subnet) {
    if (subnet.prefix_length > 30) return nullptr;
    if (address == subnet.network()) return "the network address of the subnet";
    if (address == subnet.broadcast()) return "the broadcast address of the subnet";
    return nullptr;
}

}  // namespace

IpOptions IpOptions::from_config(const Config& config) {
    IpOptions options;
    config.allow({"use"});  // read by the host to pick this plugin

    const std::string address_text = config.get_string("address");
    const auto cidr = Ipv4Cidr::parse(address_text);
    const char* expected_cidr = "an IPv4 address with its prefix length, like 10.0.0.2/24";
    if (!cidr || address_text.find('/') == std::string::npos) {
        config.fail("address", expected_cidr, address_text);
    }
    if (const char* why = unusable_host(cidr->address)) {
        config.fail("address", "a host address", address_text + " (" + why + ")");
    }
    if (const char* why = unusable_in_subnet(cidr->address, *cidr)) {
        config.fail("address", "a host address", address_text + " (" + why + ")");
    }
    options.address = *cidr;

    if (config.has("gateway")) {
        const std::string text = config.get_string("gateway");
        const auto gateway = Ipv4Address::parse(text);
        if (!gateway) config.fail("gateway", "an IPv4 address like 10.0.0.1", text);
        const char* why = unusable_host(*gateway);
        if (!why) why = unusable_in_subnet(*gateway, *cidr);
        if (!why && !cidr->contains(*gateway))
            why = "not on the link: outside the address's prefix";
        if (!why && *gateway == cidr->address) why = "the interface's own address";
        if (why) config.fail("gateway", "an on-link host address", text + " (" + why + ")");
        options.gateway = *gateway;
    }

    options.ttl = static_cast<std::uint8_t>(config.get_int("ttl", 64, 1, 255));

    ArpOptions& arp = options.arp;
    arp.cache_size = static_cast<std::size_t>(config.get_int("arp_cache_size", 512, 1, 1 << 20));
    arp.lifetime = config.get_duration("arp_lifetime", 60s, 1ms, 24h);
    arp.retry = config.get_duration("arp_retry", 1s, 1ms, 1h);
    arp.retries = static_cast<std::uint32_t>(config.get_int("arp_retries", 3, 1, 100));
    arp.queue = static_cast<std::size_t>(config.get_int("arp_queue", 16, 1, 65536));
    arp.queue_total = static_cast<std::size_t>(config.get_int("arp_queue_total", 256, 1, 1 << 20));

    ReassemblyOptions& reassembly = options.reassembly;
    const std::uint64_t memory = config.get_size("reassembly_memory", std::uint64_t{1} << 20);
    if (memory < 4096 || memory > (std::uint64_t{1} << 30)) {
        config.fail("reassembly_memory", "a size from 4KiB to 1GiB", std::to_string(memory));
    }
    reassembly.memory = static_cast<std::size_t>(memory);
    reassembly.timeout = config.get_duration("reassembly_timeout", 30s, 1ms, 1h);
    reassembly.max_fragments =
        static_cast<std::uint32_t>(config.get_int("reassembly_max_fragments", 64, 1, 8192));

    options.icmp_rate = static_cast<std::uint32_t>(config.get_int("icmp_rate", 100, 0, 1000000));
    options.icmp_burst = static_cast<std::uint32_t>(config.get_int("icmp_burst", 50, 0, 1000000));
    options.udp_queue = static_cast<std::uint32_t>(config.get_int("udp_queue", 256, 1, 1 << 20));
    config.done();
    return options;
}

}  // namespace netloom::ip
