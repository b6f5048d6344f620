// plugin.cpp — registers tcp_classic: the event-driven TCP engine (stateful connection objects
// with their own queues and timers, in the mirage-tcpip style).
#include "netloom/plugin.hpp"
#include "engine.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "netloom/tcp_common/secret_seed.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    auto engine_config = netloom::classic::read_engine_config(config);
    engine_config.secret_seed = netloom::tcp::engine_secret_seed(env.scheduler(), env.stack_name());
    return std::make_unique<netloom::classic::Engine>(std::move(engine_config), env.ip(),
                                                      env.scheduler(), env.logger("tcp_classic"));
}

}  // namespace

NETLOOM_PLUGIN(netloom_tcp_classic, tcp, "tcp_classic", "0.1.0",
               "Event-driven TCP engine with per-connection objects, queues and timers "
               "(RFC 9293, 7323, 2018, 6675, 5681/6582, 3042, 9438, 6298, 5961, 6528, 4987); "
               "RACK-style loss detection (RFC 8985 reordering window, tail-loss probe)",
               &create, nullptr);
