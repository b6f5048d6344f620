// Registration of the `ipv4` IP layer; the layer itself lives in ip_layer.cpp and its neighbours.
#include "netloom/plugin.hpp"
#include "ip_layer.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    return netloom::ip::make_ipv4_layer(config, env);
}

}  // namespace

NETLOOM_PLUGIN(netloom_ip_ipv4, ip, "ipv4", "1.0.0",
               "Ethernet, ARP, IPv4 (fragmentation, bounded reassembly), ICMP and UDP", &create,
               nullptr);
