// Registers the `rr` app (request/response latency, server or client); the roles live in
// rr_*.cpp.
#include "netloom/plugin.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "rr.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    return netloom::apps::make_rr(config, env);
}

}  // namespace

NETLOOM_PLUGIN(netloom_app_rr, app, "rr", "1.0.0",
               "TCP request/response latency (rr, crr) with percentiles and a JSON report", &create,
               nullptr);
