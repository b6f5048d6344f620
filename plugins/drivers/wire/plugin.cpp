// Registration of the `wire` driver (in-process link); the device lives in wire_device.cpp.
#include "netloom/plugin.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "wire_device.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    return netloom::drivers::make_wire_device(config, env);
}

}  // namespace

NETLOOM_PLUGIN(netloom_driver_wire, driver, "wire", "1.0.0",
               "in-process Ethernet link between stacks of one process (rate, latency, queue)",
               &create, nullptr);
