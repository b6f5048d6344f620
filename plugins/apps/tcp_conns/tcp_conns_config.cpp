// tcp_conns: config keys, the factory, and the heap probe.
#include <malloc.h>

#include "tcp_app_support.hpp"
#include "tcp_conns.hpp"

namespace netloom::apps {
namespace {

Time read_duration(const Config& config, const char* key, Time fallback, bool allow_zero) {
    const Time value = config.get_duration(key, fallback);
    if (value < Time{0} || (!allow_zero && value == Time{0})) {
        config.fail(key, allow_zero ? "a duration >= 0" : "a duration > 0", config.get_string(key));
    }
    return value;
}

}  // namespace

TcpConnsOptions TcpConnsOptions::from_config(const Config& config) {
    TcpConnsOptions o;
    const std::string role = config.get_choice("role", {"client", "server"}, "client");
    o.role = role == "client" ? Role::client : Role::server;
    o.port = read_port(config, "port", 5002);
    if (o.role == Role::server) {
        o.backlog = static_cast<std::uint32_t>(config.get_int("backlog", 0, 0, 1'000'000));
        refuse_keys(config,
                    {"target", "count", "burst", "settle", "hold", "close_timeout", "report"},
                    "is a client key; this tcp_conns has role: server");
        return o;
    }
    refuse_keys(config, {"backlog"}, "is a server key; this tcp_conns has role: client");
    o.target = read_target(config);
    o.count = static_cast<std::uint32_t>(config.get_int("count", o.count, 1, kMaxCount));
    o.burst = static_cast<std::uint32_t>(config.get_int("burst", o.burst, 1, kMaxCount));
    o.settle = read_duration(config, "settle", o.settle, true);
    o.hold = read_duration(config, "hold", o.hold, true);
    o.close_timeout = read_duration(config, "close_timeout", o.close_timeout, false);
    o.report = config.get_string("report", "");
    return o;
}

std::unique_ptr<App> make_tcp_conns(const Config& config, Env& env) {
    TcpConnsOptions options = TcpConnsOptions::from_config(config);
    config.done();
    TcpEngine& tcp = env.tcp();
    auto log = env.logger("app.tcp_conns");
    if (options.role == TcpConnsOptions::Role::server) {
        return std::make_unique<TcpConnsServer>(options.port, options.backlog, tcp, env.scheduler(),
                                                std::move(log));
    }
    return std::make_unique<TcpConnsClient>(std::move(options), tcp, env.scheduler(),
                                            std::move(log));
}

std::size_t heap_bytes_in_use() noexcept {
    return mallinfo2().uordblks;
}

}  // namespace netloom::apps
