// Registers the `tcp_bulk` app; the transfer lives in bulk_transfer.cpp, the app around it in
// tcp_bulk_app.cpp.
#include "netloom/plugin.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "tcp_bulk.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    return netloom::apps::make_tcp_bulk(config, env);
}

}  // namespace

NETLOOM_PLUGIN(netloom_app_tcp_bulk, app, "tcp_bulk", "1.0.0",
               "One-way TCP bulk transfer with SHA-256, throughput and a JSON report", &create,
               nullptr);
