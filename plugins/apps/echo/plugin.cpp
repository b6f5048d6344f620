// Registers the `echo` app (RFC 862 server over TCP and/or UDP, checking TCP client); it lives in
// echo.cpp and echo_client.cpp.
#include "netloom/plugin.hpp"
#include "echo.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    return netloom::apps::make_echo(config, env);
}

}  // namespace

NETLOOM_PLUGIN(netloom_app_echo, app, "echo", "1.1.0",
               "Echo Protocol (RFC 862): server over TCP and UDP, and a TCP client that checks the "
               "echo by SHA-256",
               &create, nullptr);
