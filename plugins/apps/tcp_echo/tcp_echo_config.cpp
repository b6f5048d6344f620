// tcp_echo: config keys and the factory choosing server or client.
#include "netloom/tcp.hpp"
#include "tcp_app_support.hpp"
#include "tcp_echo.hpp"

namespace netloom::apps {

TcpEchoOptions TcpEchoOptions::from_config(const Config& config) {
    TcpEchoOptions o;
    const std::string role = config.get_choice("role", {"server", "client"});
    o.role = role == "server" ? Role::server : Role::client;
    o.port = read_port(config, "port", 7);
    if (o.role == Role::server) {
        refuse_keys(config, {"target", "bytes", "seed", "connections", "parallel"},
                    "is a client key; this tcp_echo has role: server");
        return o;
    }
    o.target = read_target(config);
    o.bytes = config.get_size("bytes", o.bytes);
    o.seed = static_cast<std::uint64_t>(config.get_int("seed", 1, 0));
    o.connections =
        static_cast<std::uint32_t>(config.get_int("connections", 1, 1, kMaxConnections));
    o.parallel = static_cast<std::uint32_t>(config.get_int("parallel", 1, 1, kMaxConnections));
    return o;
}

std::unique_ptr<App> make_tcp_echo(const Config& config, Env& env) {
    TcpEchoOptions options = TcpEchoOptions::from_config(config);
    config.done();
    TcpEngine& tcp = env.tcp();
    auto log = env.logger("app.tcp_echo");
    if (options.role == TcpEchoOptions::Role::server) {
        return std::make_unique<TcpEchoServer>(options.port, tcp, env.scheduler(), std::move(log));
    }
    return std::make_unique<TcpEchoClient>(options, tcp, env.scheduler(), std::move(log));
}

}  // namespace netloom::apps
