// Registration of the `impair` fault-injection decorator; the device lives in impair_device.cpp.
#include "netloom/plugin.hpp"
#include "impair_device.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    return netloom::drivers::make_impair_device(config, env);
}

}  // namespace

NETLOOM_PLUGIN(netloom_driver_impair, driver, "impair", "1.0.0",
               "decorator injecting seeded loss, duplication, corruption, delay and reordering",
               &create, nullptr);
