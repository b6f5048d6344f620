// Registration of the `pcap` capture decorator; the device lives in pcap_device.cpp.
#include "netloom/plugin.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "pcap_device.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    return netloom::drivers::make_pcap_device(config, env);
}

}  // namespace

NETLOOM_PLUGIN(netloom_driver_pcap, driver, "pcap", "1.0.0",
               "decorator writing every frame sent and received to a pcap file", &create, nullptr);
