// udp_echo: config keys, the datagram pattern, and the factory choosing server or client.
#include <string>

#include "netloom/wire/bytes.hpp"
#include "udp_echo.hpp"

namespace netloom::apps {
namespace {

constexpr const char* kClientOnlyKeys[] = {"target", "count", "size", "interval", "timeout"};

}  // namespace

UdpEchoOptions UdpEchoOptions::from_config(const Config& config) {
    UdpEchoOptions o;
    const std::string role = config.get_choice("role", {"server", "client"});
    o.role = role == "server" ? Role::server : Role::client;
    if (o.role == Role::server) {
        // Refuse client keys on a server explicitly: "unknown key" would hide the real mistake.
        for (const char* key : kClientOnlyKeys) {
            if (config.has(key)) {
                config.fail_message(key, std::string("`") + key +
                                             "` is a client key; this udp_echo has role: server");
            }
        }
        o.port = static_cast<std::uint16_t>(config.get_int("port", 7, 1, 65535));
        return o;
    }
    o.port = static_cast<std::uint16_t>(config.get_int("port", 7, 1, 65535));
    const std::string target = config.get_string("target");
    const auto address = Ipv4Address::parse(target);
    if (!address || address->is_unspecified()) {
        config.fail("target", "an IPv4 address such as 10.0.0.1", target);
    }
    o.target = *address;
    o.count = static_cast<std::uint32_t>(config.get_int("count", 10, 1, kMaxCount));
    o.size = static_cast<std::uint32_t>(config.get_int("size", 64, kMinSize, kMaxSize));
    o.interval = config.get_duration("interval", std::chrono::milliseconds(10));
    o.timeout = config.get_duration("timeout", std::chrono::seconds(1), Time{1});
    return o;
}

void fill_echo_payload(std::span<std::uint8_t> out, std::uint32_t sequence) noexcept {
    static constexpr std::uint8_t kMagic[4] = {'N', 'L', 'U', 'E'};
    std::size_t i = 0;
    for (; i < out.size() && i < 4; ++i) out[i] = kMagic[i];
    std::uint8_t seq[4];
    wire::store_be32(seq, sequence);
    for (; i < out.size() && i < 8; ++i) out[i] = seq[i - 4];
    // A byte that changes with both offset and sequence; 251 is prime, so the period is long
    // and no two nearby sequences share a pattern.
    for (; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>((i * 7 + sequence * 13) % 251);
}

std::unique_ptr<App> make_udp_echo(const Config& config, Env& env) {
    UdpEchoOptions options = UdpEchoOptions::from_config(config);
    config.done();
    IpLayer& ip = env.ip();
    auto log = env.logger("app.udp_echo");
    if (options.role == UdpEchoOptions::Role::server) {
        return std::make_unique<UdpEchoServer>(options.port, ip, env.scheduler(), std::move(log));
    }
    return std::make_unique<UdpEchoClient>(options, ip, env.scheduler(), std::move(log));
}

}  // namespace netloom::apps
