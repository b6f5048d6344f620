// Registers the `chargen` app (RFC 864 server over TCP); it lives in chargen.cpp.
#include "netloom/plugin.hpp"
#include "chargen.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    return netloom::apps::make_chargen(config, env);
}

}  // namespace

NETLOOM_PLUGIN(netloom_app_chargen, app, "chargen", "1.0.0",
               "Character Generator Protocol server (RFC 864) over TCP", &create, nullptr);
