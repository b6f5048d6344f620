// Registers the `http` app (HTTP/1.1 static file server, or its fetching client); it lives in
// http_*.cpp and the body sources *_source.cpp.
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
               "HTTP/1.1 static file server (a directory or a tar archive on a block device; GET, "
               "HEAD, keep-alive, ranges) and a fetching client",
               &create, nullptr);
