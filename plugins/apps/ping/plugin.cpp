// Registers the `ping` app; the app lives in ping_app.cpp.
#include "netloom/plugin.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "ping_app.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    return netloom::apps::make_ping(config, env);
}

}  // namespace

NETLOOM_PLUGIN(netloom_app_ping, app, "ping", "1.0.0",
               "ICMP echo to one address with a summary like iputils ping (finite)", &create,
               nullptr);
