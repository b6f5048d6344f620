// Registers the `echo` app (RFC 862 server over TCP and/or UDP); it lives in echo.cpp.
#include "netloom/plugin.hpp"
#include "echo.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    return netloom::apps::make_echo(config, env);
}

}  // namespace

NETLOOM_PLUGIN(netloom_app_echo, app, "echo", "1.0.0",
               "Echo Protocol server (RFC 862) over TCP and UDP", &create, nullptr);
