// Registers the `tcp_conns` app (client or server); the roles live in tcp_conns_*.cpp.
#include "netloom/plugin.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "tcp_conns.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    return netloom::apps::make_tcp_conns(config, env);
}

}  // namespace

NETLOOM_PLUGIN(netloom_app_tcp_conns, app, "tcp_conns", "1.0.0",
               "Many idle TCP connections: memory per connection (client) or accept-and-hold",
               &create, nullptr);
