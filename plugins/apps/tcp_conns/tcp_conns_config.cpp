// tcp_conns: config keys, the factory, and the heap probe.
#include <malloc.h>

#include "tcp_app_support.hpp"
#include "tcp_conns.hpp"

namespace netloom::apps {

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
    o.settle = config.get_duration("settle", o.settle);
    o.hold = config.get_duration("hold", o.hold);
    o.close_timeout = config.get_duration("close_timeout", o.close_timeout, Time{1});
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
