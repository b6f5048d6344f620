// Registers the `udp_echo` app (server or client); the roles live in udp_echo_*.cpp.
#include "netloom/plugin.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "udp_echo.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    return netloom::apps::make_udp_echo(config, env);
}

}  // namespace

NETLOOM_PLUGIN(netloom_app_udp_echo, app, "udp_echo", "1.0.0",
               "UDP echo server (RFC 862) and a client that checks every echo and measures RTT",
               &create, nullptr);
