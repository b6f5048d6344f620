// Registers the `tcp_echo` app (server or client); the roles live in tcp_echo_*.cpp.
#include "netloom/plugin.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "tcp_echo.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    return netloom::apps::make_tcp_echo(config, env);
}

}  // namespace

NETLOOM_PLUGIN(netloom_app_tcp_echo, app, "tcp_echo", "1.0.0",
               "TCP echo server and a client that checks the echo by SHA-256", &create, nullptr);
