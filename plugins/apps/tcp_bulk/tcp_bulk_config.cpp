// tcp_bulk: config keys and the factory.
#include "tcp_app_support.hpp"
#include "tcp_bulk.hpp"

namespace netloom::apps {

TcpBulkOptions TcpBulkOptions::from_config(const Config& config) {
    TcpBulkOptions o;
    const std::string role = config.get_choice("role", {"client", "server"});
    o.role = role == "client" ? Role::client : Role::server;
    const std::string direction = config.get_choice("direction", {"send", "receive"});
    o.direction = direction == "send" ? Direction::send : Direction::receive;
    o.port = read_port(config, "port", 5001);
    if (o.role == Role::client) {
        refuse_keys(config, {"connections"}, "is a server key; this tcp_bulk has role: client");
        o.target = read_target(config);
    } else {
        refuse_keys(config, {"target"}, "is a client key; this tcp_bulk has role: server");
        o.connections =
            static_cast<std::uint32_t>(config.get_int("connections", 0, 0, 1'000'000'000));
    }
    if (o.sender()) {
        refuse_keys(config, {"expect", "stall_after", "stall_for"},
                    "is a receiver key; this tcp_bulk has direction: send");
        o.bytes = config.get_size("bytes");
        o.seed = static_cast<std::uint64_t>(config.get_int("seed", 1, 0));
        if (config.has("abort_after")) {
            o.abort_after = config.get_size("abort_after");
            if (*o.abort_after > *o.bytes) {
                config.fail("abort_after", "at most `bytes` (" + std::to_string(*o.bytes) + ")",
                            config.get_string("abort_after"));
            }
        }
    } else {
        refuse_keys(config, {"abort_after"},
                    "is a sender key; this tcp_bulk has direction: receive");
        if (config.has("bytes")) o.bytes = config.get_size("bytes");
        if (config.has("seed")) o.seed = static_cast<std::uint64_t>(config.get_int("seed", {}, 0));
        o.expect = config.get_choice("expect", {"eof", "reset"}, "eof") == "eof" ? Expect::eof
                                                                                 : Expect::reset;
        if (config.has("stall_after")) {
            o.stall_after = config.get_size("stall_after");
            o.stall_for = config.get_duration("stall_for", {}, Time{1});
        } else {
            refuse_keys(config, {"stall_for"}, "needs stall_after");
        }
    }
    o.report = config.get_string("report", "");
    o.hash = config.get_bool("hash", true);
    return o;
}

std::unique_ptr<App> make_tcp_bulk(const Config& config, Env& env) {
    TcpBulkOptions options = TcpBulkOptions::from_config(config);
    config.done();
    TcpEngine& tcp = env.tcp();
    return std::make_unique<TcpBulkApp>(std::move(options), tcp, env.scheduler(),
                                        env.logger("app.tcp_bulk"));
}

}  // namespace netloom::apps
