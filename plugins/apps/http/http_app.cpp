// The `http` app's keys and factory: the server (with its body source: a directory or a tar
// store on a block device) or the client.
#include <filesystem>
#include <stdexcept>

#include "block_io.hpp"
#include "file_source.hpp"
#include "http_client.hpp"
#include "http_server.hpp"
#include "store_source.hpp"
#include "tcp_app_support.hpp"

namespace netloom::apps {

namespace fs = std::filesystem;

HttpOptions HttpOptions::from_config(const Config& config) {
    HttpOptions o;
    o.service = ServiceOptions::from_config(config, 80, false);
    if (!config.has("idle_timeout")) o.service.idle_timeout = std::chrono::seconds(10);
    const std::uint64_t max_request = config.get_size("max_request_bytes", 8 * 1024);
    if (max_request < 256 || max_request > (1u << 20)) {
        config.fail("max_request_bytes", "a size from 256 B to 1 MiB",
                    config.get_string("max_request_bytes"));
    }
    o.max_request_bytes = static_cast<std::size_t>(max_request);
    o.limits.max_target = std::min<std::size_t>(o.limits.max_target, o.max_request_bytes);
    return o;
}

std::unique_ptr<BodySource> make_body_source(const Config& config, Env& env) {
    if (config.has("root") == config.has("store")) {
        config.fail_message(config.has("root") ? "store" : "",
                            "give exactly one of `root` (a directory) and `store` (a tar archive "
                            "on a block device)");
    }
    if (config.has("root")) {
        const std::string root = config.get_string("root");
        std::error_code ec;
        fs::path canonical = fs::canonical(root, ec);
        if (ec || !fs::is_directory(canonical, ec)) {
            config.fail("root", "an existing directory", root);
        }
        return std::make_unique<FileSource>(std::move(canonical));
    }
    const Config store = config.child("store");
    BlockDevice& device = block_device(store, env, "block");
    TarStoreOptions options = TarStoreOptions::from_config(store, device.geometry());
    store.done();
    return std::make_unique<StoreSource>(device, std::move(options), env.scheduler(),
                                         env.logger("app.http.store"));
}

std::unique_ptr<App> make_http(const Config& config, Env& env) {
    const bool client = config.get_choice("role", {"server", "client"}, "server") == "client";
    if (client) {
        refuse_keys(config,
                    {"root", "store", "max_connections", "max_request_bytes", "idle_timeout"},
                    "is a server key; this http has role: client");
        HttpClientOptions options = HttpClientOptions::from_config(config);
        config.done();
        return std::make_unique<HttpClient>(std::move(options), env.tcp(), env.scheduler(),
                                            env.logger("app.http"));
    }
    refuse_keys(config, {"target", "path", "count", "duration", "keep_alive", "timeout", "report"},
                "is a client key; this http has role: server");
    HttpOptions options = HttpOptions::from_config(config);
    std::unique_ptr<BodySource> source = make_body_source(config, env);
    config.done();
    return std::make_unique<HttpServer>(std::move(options), std::move(source), env.tcp(),
                                        env.scheduler(), env.logger("app.http"));
}

}  // namespace netloom::apps
