// Registers the `http` app (HTTP/1.1 static file server); it lives in http_*.cpp.
#include "netloom/plugin.hpp"
#include "http_server.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    return netloom::apps::make_http(config, env);
}

}  // namespace

NETLOOM_PLUGIN(netloom_app_http, app, "http", "1.0.0",
               "HTTP/1.1 static file server (GET, HEAD, keep-alive, ranges)", &create, nullptr);
