// rr: the wire format helpers, config keys and the factory choosing server or client.
#include "rr.hpp"

#include <string>

#include "netloom/wire/bytes.hpp"
#include "tcp_app_support.hpp"

namespace netloom::apps {

void encode_rr_header(const RrHeader& header, std::span<std::uint8_t, kRrHeaderSize> out) noexcept {
    wire::store_be32(out.data(), header.request_length);
    wire::store_be32(out.data() + 4, header.response_length);
    wire::store_be32(out.data() + 8, header.transaction);
}

RrHeader decode_rr_header(std::span<const std::uint8_t, kRrHeaderSize> in) noexcept {
    return {wire::load_be32(in.data()), wire::load_be32(in.data() + 4),
            wire::load_be32(in.data() + 8)};
}

void fill_rr_pattern(std::span<std::uint8_t> out, bool response, std::uint32_t transaction,
                     std::uint64_t offset) noexcept {
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = rr_pattern(response, transaction, offset + i);
}

bool check_rr_pattern(std::span<const std::uint8_t> in, bool response, std::uint32_t transaction,
                      std::uint64_t offset) noexcept {
    std::uint8_t differs = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
        differs |= static_cast<std::uint8_t>(in[i] ^ rr_pattern(response, transaction, offset + i));
    }
    return differs == 0;
}

namespace {

std::uint32_t read_length(const Config& config, std::string_view key, std::uint64_t fallback,
                          std::uint64_t min) {
    const std::uint64_t value = config.get_size(key, fallback);
    if (value < min || value > RrOptions::kMaxSize) {
        config.fail(key,
                    "a size from " + std::to_string(min) + " B to " +
                        std::to_string(RrOptions::kMaxSize >> 20) + " MiB",
                    config.get_string(key));
    }
    return static_cast<std::uint32_t>(value);
}

}  // namespace

RrOptions RrOptions::from_config(const Config& config) {
    RrOptions o;
    o.role =
        config.get_choice("role", {"server", "client"}) == "server" ? Role::server : Role::client;
    o.port = read_port(config, "port", 5002);
    if (o.role == Role::server) {
        refuse_keys(config,
                    {"target", "mode", "size", "response_size", "duration", "transactions",
                     "warmup", "timeout", "nodelay", "report"},
                    "is a client key; this rr has role: server");
        o.max_connections =
            static_cast<std::uint32_t>(config.get_int("max_connections", 1024, 1, 1'000'000));
        o.max_size = read_length(config, "max_size", 64u << 20, kRrHeaderSize);
        o.idle_timeout = config.get_duration("idle_timeout", std::chrono::seconds(60));
        return o;
    }
    refuse_keys(config, {"max_connections", "max_size", "idle_timeout"},
                "is a server key; this rr has role: client");
    o.target = read_target(config);
    o.mode = config.get_choice("mode", {"rr", "crr"}, "rr") == "rr" ? Mode::rr : Mode::crr;
    o.size = read_length(config, "size", 64, kRrHeaderSize);
    o.response_size = read_length(config, "response_size", 64, 1);
    if (config.has("duration") && config.has("transactions")) {
        config.fail_message("transactions", "give `duration` or `transactions`, not both");
    }
    if (config.has("transactions")) {
        o.transactions =
            static_cast<std::uint64_t>(config.get_int("transactions", {}, 1, 1'000'000'000'000));
    } else {
        o.duration = config.get_duration("duration", std::chrono::seconds(2), Time{1});
    }
    o.warmup = config.get_duration("warmup", Time{0});
    o.timeout = config.get_duration("timeout", std::chrono::seconds(10), Time{1});
    o.nodelay = config.get_bool("nodelay", true);
    o.report = config.get_string("report", "");
    return o;
}

std::unique_ptr<App> make_rr(const Config& config, Env& env) {
    RrOptions options = RrOptions::from_config(config);
    config.done();
    TcpEngine& tcp = env.tcp();
    auto log = env.logger("app.rr");
    if (options.role == RrOptions::Role::server) {
        return std::make_unique<RrServer>(options, tcp, env.scheduler(), std::move(log));
    }
    return std::make_unique<RrClient>(std::move(options), tcp, env.scheduler(), std::move(log));
}

}  // namespace netloom::apps
