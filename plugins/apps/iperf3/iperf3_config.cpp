// iperf3: config keys and the factory choosing server or client.
#include <chrono>

#include "iperf3.hpp"
#include "tcp_app_support.hpp"

namespace netloom::apps {

Iperf3Options Iperf3Options::from_config(const Config& config) {
    using namespace std::chrono;
    Iperf3Options o;
    const std::string role = config.get_choice("role", {"server", "client"});
    o.role = role == "server" ? Role::server : Role::client;
    o.port = read_port(config, "port", iperf3::kDefaultPort);
    o.timeout = config.get_duration("timeout", o.timeout, Time{1});
    if (o.role == Role::server) {
        refuse_keys(config, {"target", "time", "bytes", "parallel", "reverse", "length", "report"},
                    "is a client key; this iperf3 has role: server");
        o.idle_timeout = config.get_duration("idle_timeout", o.idle_timeout, Time{1});
        o.grace = config.get_duration("grace", o.grace, Time{1});
        o.max_pending = static_cast<std::uint32_t>(config.get_int("max_pending", 64, 1, 100000));
        return o;
    }
    refuse_keys(config, {"idle_timeout", "grace", "max_pending"},
                "is a server key; this iperf3 has role: client");
    o.target = read_target(config);
    iperf3::TestParams& p = o.params;
    if (config.has("time") && config.has("bytes"))
        config.fail_message("bytes", "time and bytes are exclusive: give one limit");
    if (config.has("bytes")) {
        p.bytes = config.get_size("bytes");
        if (p.bytes == 0) config.fail("bytes", "a positive size", "0");
        p.time_s = 0;
    } else {
        const Time time = config.get_duration("time", seconds(10), seconds(1), hours(24));
        if (time % seconds(1) != Time::zero())
            config.fail("time", "whole seconds from 1s to 24h (iperf3 sends an integer)",
                        std::to_string(duration_cast<milliseconds>(time).count()) + " ms");
        p.time_s = static_cast<std::uint32_t>(duration_cast<seconds>(time).count());
    }
    p.parallel = static_cast<std::uint32_t>(
        config.get_int("parallel", 1, 1, static_cast<std::int64_t>(iperf3::kMaxStreams)));
    p.reverse = config.get_bool("reverse", false);
    const std::uint64_t length = config.get_size("length", iperf3::kDefaultLength);
    if (length == 0 || length > iperf3::kMaxLength)
        config.fail("length", "a size from 1 byte to 1 MiB", std::to_string(length));
    p.length = static_cast<std::uint32_t>(length);
    o.report = config.get_string("report", "");
    return o;
}

std::unique_ptr<App> make_iperf3(const Config& config, Env& env) {
    Iperf3Options options = Iperf3Options::from_config(config);
    config.done();
    TcpEngine& tcp = env.tcp();
    auto log = env.logger("app.iperf3");
    if (options.role == Iperf3Options::Role::server)
        return std::make_unique<Iperf3Server>(options, tcp, env.scheduler(), std::move(log));
    return std::make_unique<Iperf3Client>(options, tcp, env.scheduler(), std::move(log));
}

}  // namespace netloom::apps
