// engine_config.cpp — YAML keys of tcp_classic (see README.md for the table).
#include "engine_config.hpp"

namespace netloom::classic {

EngineConfig read_engine_config(const netloom::Config& c) {
    EngineConfig e;
    e.mss = static_cast<std::uint16_t>(c.get_int("mss", e.mss, 64, 65495));
    e.rcvbuf = static_cast<std::uint32_t>(c.get_size("rcvbuf", e.rcvbuf));
    e.sndbuf = static_cast<std::uint32_t>(c.get_size("sndbuf", e.sndbuf));
    if (e.rcvbuf < 1024 || e.rcvbuf > (1u << 30))
        c.fail_message("rcvbuf", "rcvbuf must be 1KiB..1GiB");
    if (e.sndbuf < 1024 || e.sndbuf > (1u << 30))
        c.fail_message("sndbuf", "sndbuf must be 1KiB..1GiB");
    e.window_scaling = c.get_bool("window_scaling", e.window_scaling);
    e.sack = c.get_bool("sack", e.sack);
    e.timestamps = c.get_bool("timestamps", e.timestamps);
    e.cubic = c.get_choice("cc", {"newreno", "cubic"}, "cubic") == "cubic";
    e.msl = c.get_duration("msl", e.msl);
    e.max_retransmits =
        static_cast<std::uint32_t>(c.get_int("max_retransmits", e.max_retransmits, 1, 100));
    e.max_syn_retransmits =
        static_cast<std::uint32_t>(c.get_int("syn_retransmits", e.max_syn_retransmits, 1, 100));
    e.connect_timeout = c.get_duration("connect_timeout", e.connect_timeout);
    e.challenge_ack_limit = static_cast<std::uint32_t>(
        c.get_int("challenge_ack_limit", e.challenge_ack_limit, 1, 1000000));
    e.rto.min_rto = c.get_duration("rto_min", e.rto.min_rto);
    e.rto.max_rto = c.get_duration("rto_max", e.rto.max_rto);
    e.rto.initial_rto = c.get_duration("rto_initial", e.rto.initial_rto);
    if (e.rto.min_rto > e.rto.max_rto) c.fail_message("rto_min", "rto_min must not exceed rto_max");
    e.backlog = static_cast<std::uint32_t>(c.get_int("backlog", e.backlog, 1, 65535));
    e.syn_backlog = static_cast<std::uint32_t>(c.get_int("syn_backlog", e.syn_backlog, 1, 65535));
    e.syn_cookies = c.get_bool("syn_cookies", e.syn_cookies);
    e.max_connections =
        static_cast<std::uint32_t>(c.get_int("max_connections", e.max_connections, 1, 1 << 22));
    e.nodelay = c.get_bool("nodelay", e.nodelay);
    return e;
}

}  // namespace netloom::classic
