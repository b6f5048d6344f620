// ip_options.hpp — the settings of the `ipv4` plugin and their validation from its YAML mapping
// (the keys are documented in README.md).
//
// Contract: `from_config` reads every key through netloom::Config, fails through config.fail()
// on a bad value (so the error carries file:line:column) and calls config.done(). The result is
// self-consistent: the address is a usable host address of its prefix, the gateway (if any) is
// another on-link host address, sizes and durations are within the documented ranges.
#pragma once

#include <cstdint>
#include <optional>

#include "arp_cache.hpp"
#include "netloom/config.hpp"
#include "netloom/wire/ipv4_address.hpp"
#include "reassembly.hpp"

namespace netloom::ip {

struct IpOptions {
    wire::Ipv4Cidr address;
    std::optional<wire::Ipv4Address> gateway;
    std::uint8_t ttl = 64;
    ArpOptions arp;
    ReassemblyOptions reassembly;
    std::uint32_t icmp_rate = 100;  ///< ICMP error messages per second
    std::uint32_t icmp_burst = 50;
    std::uint32_t udp_queue = 256;  ///< datagrams waiting per UDP socket

    static IpOptions from_config(const Config& config);
};

}  // namespace netloom::ip
