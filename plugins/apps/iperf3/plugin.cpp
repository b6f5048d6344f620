// Registers the `iperf3` app (server or client); the roles live in iperf3_*.cpp.
#include "netloom/plugin.hpp"
#include "iperf3.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    return netloom::apps::make_iperf3(config, env);
}

}  // namespace

NETLOOM_PLUGIN(netloom_app_iperf3, app, "iperf3", "1.0.0",
               "iperf3 3.12 server and client (TCP: parallel, reverse, time and byte limits)",
               &create, nullptr);
