// Registers the `discard` app (RFC 863 server over TCP and/or UDP); it lives in discard.cpp.
#include "netloom/plugin.hpp"
#include "discard.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    return netloom::apps::make_discard(config, env);
}

}  // namespace

NETLOOM_PLUGIN(netloom_app_discard, app, "discard", "1.0.0",
               "Discard Protocol server (RFC 863) over TCP and UDP", &create, nullptr);
