// plugin.cpp — registers tcp_utcp: the TCP engine whose protocol logic is a pure core.
#include "netloom/plugin.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "netloom/tcp_common/secret_seed.hpp"
#include "shell/engine.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    auto engine_config = netloom::utcp::read_engine_config(config);
    engine_config.secret_seed = netloom::tcp::engine_secret_seed(env.scheduler(), env.stack_name());
    return std::make_unique<netloom::utcp::Engine>(std::move(engine_config), env.ip(),
                                                   env.scheduler(), env.logger("tcp_utcp"));
}

}  // namespace

NETLOOM_PLUGIN(netloom_tcp_utcp, tcp, "tcp_utcp", "0.1.0",
               "TCP engine with a pure core in the netsem/uTCP style (RFC 9293, 7323, 2018, "
               "6675, 5681, 9438, 6298, 5961, 6528, 4987)",
               &create, nullptr);
