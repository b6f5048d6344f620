// engine_config.cpp — tcp_utcp's configuration from the keys every TCP engine reads
// (tcp_common/engine_options.hpp): the per-connection ones go into the core's Config, the rest
// stay with the shell.
#include "shell/engine_config.hpp"

#include "netloom/tcp_common/engine_options.hpp"

namespace netloom::utcp {

EngineConfig read_engine_config(const netloom::Config& c) {
    const tcp::EngineOptions o = tcp::read_engine_options(c);
    EngineConfig e;
    Config& core = e.core;
    core.mss = o.mss;  // the shell clamps it to the device MTU
    core.rcvbuf = o.rcvbuf;
    core.sndbuf = o.sndbuf;
    core.window_scaling = o.window_scaling;
    core.sack = o.sack;
    core.timestamps = o.timestamps;
    core.cubic = o.cubic;
    core.msl = o.msl;
    core.max_retransmits = o.max_retransmits;
    core.max_syn_retransmits = o.max_syn_retransmits;
    core.connect_timeout = o.connect_timeout;
    core.challenge_ack_limit = o.challenge_ack_limit;
    core.rto = o.rto;
    core.delayed_ack = o.delayed_ack;
    core.delack_timeout = o.delack_timeout;
    core.fin_wait_2_timeout = o.fin_wait_2_timeout;
    core.keepalive = o.keepalive;
    core.keepalive_idle = o.keepalive_idle;
    core.keepalive_interval = o.keepalive_interval;
    core.keepalive_count = o.keepalive_count;
    core.nodelay = o.nodelay;
    e.backlog = o.backlog;
    e.syn_backlog = o.syn_backlog;
    e.syn_cookies = o.syn_cookies;
    e.max_connections = o.max_connections;
    e.max_time_wait = o.max_time_wait;
    e.ephemeral_first = o.ephemeral_first;
    e.ephemeral_last = o.ephemeral_last;
    return e;
}

}  // namespace netloom::utcp
