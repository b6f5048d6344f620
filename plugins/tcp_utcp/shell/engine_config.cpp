// engine_config.cpp — YAML keys of tcp_utcp (see README.md for the table).
#include "shell/engine_config.hpp"

namespace netloom::utcp {

EngineConfig read_engine_config(const netloom::Config& c) {
    EngineConfig e;
    Config& core = e.core;
    // The MSS we advertise: 1460 fits a 1500-byte MTU; the shell clamps it to the device MTU.
    core.mss = static_cast<std::uint16_t>(c.get_int("mss", core.mss, 64, 65495));
    core.rcvbuf = static_cast<std::uint32_t>(c.get_size("rcvbuf", core.rcvbuf));
    core.sndbuf = static_cast<std::uint32_t>(c.get_size("sndbuf", core.sndbuf));
    if (core.rcvbuf < 1024 || core.rcvbuf > (1u << 30))
        c.fail_message("rcvbuf", "rcvbuf must be 1KiB..1GiB");
    if (core.sndbuf < 1024 || core.sndbuf > (1u << 30))
        c.fail_message("sndbuf", "sndbuf must be 1KiB..1GiB");
    core.window_scaling = c.get_bool("window_scaling", core.window_scaling);
    core.sack = c.get_bool("sack", core.sack);
    core.timestamps = c.get_bool("timestamps", core.timestamps);
    core.cubic = c.get_choice("cc", {"newreno", "cubic"}, "cubic") == "cubic";
    core.msl = c.get_duration("msl", core.msl);
    core.max_retransmits =
        static_cast<std::uint32_t>(c.get_int("max_retransmits", core.max_retransmits, 1, 100));
    core.max_syn_retransmits =
        static_cast<std::uint32_t>(c.get_int("syn_retransmits", core.max_syn_retransmits, 1, 100));
    core.connect_timeout = c.get_duration("connect_timeout", core.connect_timeout);
    core.challenge_ack_limit = static_cast<std::uint32_t>(
        c.get_int("challenge_ack_limit", core.challenge_ack_limit, 1, 1000000));
    core.rto.min_rto = c.get_duration("rto_min", core.rto.min_rto);
    core.rto.max_rto = c.get_duration("rto_max", core.rto.max_rto);
    core.rto.initial_rto = c.get_duration("rto_initial", core.rto.initial_rto);
    if (core.rto.min_rto > core.rto.max_rto)
        c.fail_message("rto_min", "rto_min must not exceed rto_max");

    e.backlog = static_cast<std::uint32_t>(c.get_int("backlog", e.backlog, 1, 65535));
    e.syn_backlog = static_cast<std::uint32_t>(c.get_int("syn_backlog", e.syn_backlog, 1, 65535));
    e.syn_cookies = c.get_bool("syn_cookies", e.syn_cookies);
    e.max_connections =
        static_cast<std::uint32_t>(c.get_int("max_connections", e.max_connections, 1, 1 << 22));
    e.nodelay = c.get_bool("nodelay", e.nodelay);
    return e;
}

}  // namespace netloom::utcp
