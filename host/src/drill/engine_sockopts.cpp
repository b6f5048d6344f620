// The engine target's socket options, fcntl, ioctl, TCP_INFO snapshots and connection counts.
// Values are reported the way Linux reports them (net/core/sock.c, net/ipv4/tcp.c); options the
// engine keeps per engine map to `tcp:` keys (see engine_sockets.hpp).
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "engine_sockets.hpp"

namespace netloom::drill {

namespace {

// Linux defaults a script can observe before any connection exists.
constexpr int kRmemMax = 212992;     // net.core.rmem_max
constexpr int kWmemMax = 212992;     // net.core.wmem_max
constexpr int kMinRcvbuf = 2304;     // SOCK_MIN_RCVBUF
constexpr int kMinSndbuf = 4608;     // SOCK_MIN_SNDBUF
constexpr int kDefaultMss = 536;     // TCP_MSS_DEFAULT: mss_cache before a connection
constexpr int kMinUserMss = 88;      // TCP_MIN_MSS
constexpr int kMaxUserMss = 32767;   // MAX_TCP_WINDOW
constexpr int kMaxKeepIdle = 32767;  // MAX_TCP_KEEPIDLE (and KEEPINTVL)
constexpr int kMaxKeepCnt = 127;     // MAX_TCP_KEEPCNT
constexpr int kMaxSynCnt = 127;      // MAX_TCP_SYNCNT
constexpr int kDefaultTtl = 64;      // the ipv4 plugin's and Linux's default TTL

std::optional<int> int_of(const OptionValue& v) {
    if (v.is_int) return static_cast<int>(v.integer);
    if (v.bytes.size() < sizeof(int)) return std::nullopt;  // Linux: optlen < sizeof(int)
    int value = 0;
    std::memcpy(&value, v.bytes.data(), sizeof value);
    return value;
}

OptionValue int_value(std::int64_t v) {
    OptionValue value;
    value.is_int = true;
    value.integer = v;
    return value;
}

/// sock_setsockopt: the value is capped at the sysctl maximum (compared unsigned), doubled for
/// bookkeeping, and raised to the minimum.
int linux_buffer(int requested, int max, int min) {
    const unsigned capped = std::min(static_cast<unsigned>(requested), static_cast<unsigned>(max));
    return std::max(static_cast<int>(capped) * 2, min);
}

std::int64_t seconds(std::chrono::nanoseconds d) {
    return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

}  // namespace

std::string EngineSockets::engine_option(int fd, const std::string& key, const std::string& value) {
    auto it = engine_options_.find(key);
    if (!stack_.built() && it != engine_options_.end() && it->second.first != fd &&
        it->second.second != value)
        return "engine key " + key + " is engine-wide: socket " + std::to_string(fd) + " asks " +
               value + " after socket " + std::to_string(it->second.first) + " asked " +
               it->second.second;
    std::string why = stack_.set(key, value);
    if (why.empty()) engine_options_[key] = {fd, value};
    return why;
}

CallResult EngineSockets::getsockopt(int fd, int level, int name, OptionValue& value) {
    EngineSocket* s = find(fd);
    if (!s) return CallResult::fail(EBADF);
    observe_all();
    if (level == SOL_SOCKET) return get_socket_option(*s, name, value);
    if (level == IPPROTO_TCP) return get_tcp_option(*s, name, value);
    if (level == IPPROTO_IP && name == IP_TOS) {
        value = int_value(0);
        return CallResult::ok();
    }
    if (level == IPPROTO_IP && name == IP_TTL) {
        value = int_value(kDefaultTtl);
        return CallResult::ok();
    }
    return CallResult::not_supported("getsockopt level " + std::to_string(level) + " option " +
                                     std::to_string(name));
}

CallResult EngineSockets::setsockopt(int fd, int level, int name, const OptionValue& value) {
    EngineSocket* s = find(fd);
    if (!s) return CallResult::fail(EBADF);
    observe_all();
    if (level == SOL_SOCKET) return set_socket_option(*s, name, value);
    if (level == IPPROTO_TCP) return set_tcp_option(*s, name, value);
    if (level == IPPROTO_IP && (name == IP_TOS || name == IP_TTL)) {
        const auto v = int_of(value);
        if (!v) return CallResult::fail(EINVAL);
        if ((name == IP_TOS && *v == 0) || (name == IP_TTL && (*v == kDefaultTtl || *v == -1)))
            return CallResult::ok();
        return CallResult::not_supported(name == IP_TOS ? "IP_TOS (the engines send TOS 0)"
                                                        : "IP_TTL other than 64");
    }
    return CallResult::not_supported("setsockopt level " + std::to_string(level) + " option " +
                                     std::to_string(name));
}

CallResult EngineSockets::get_socket_option(EngineSocket& s, int name, OptionValue& value) {
    const tcp::EngineOptions& engine = stack_.effective();
    switch (name) {
        case SO_ERROR: value = int_value(std::exchange(s.sk_err, 0)); break;
        case SO_TYPE: value = int_value(SOCK_STREAM); break;
        case SO_DOMAIN: value = int_value(AF_INET); break;
        case SO_PROTOCOL: value = int_value(IPPROTO_TCP); break;
        case SO_ACCEPTCONN: value = int_value(s.listener ? 1 : 0); break;
        case SO_REUSEADDR: value = int_value(s.reuseaddr ? 1 : 0); break;
        case SO_REUSEPORT: value = int_value(0); break;
        case SO_RCVLOWAT:
        case SO_SNDLOWAT: value = int_value(1); break;
        case SO_KEEPALIVE: value = int_value(s.keepalive.value_or(engine.keepalive ? 1 : 0)); break;
        // The engine's buffer holds payload; Linux reports twice that (its bookkeeping share).
        case SO_RCVBUF:
            value = int_value(s.rcvbuf ? linux_buffer(*s.rcvbuf, kRmemMax, kMinRcvbuf)
                                       : 2 * static_cast<std::int64_t>(engine.rcvbuf));
            break;
        case SO_SNDBUF:
            value = int_value(s.sndbuf ? linux_buffer(*s.sndbuf, kWmemMax, kMinSndbuf)
                                       : 2 * static_cast<std::int64_t>(engine.sndbuf));
            break;
        case SO_LINGER: {
            const int fields[2] = {s.linger_on ? 1 : 0, s.linger_seconds};
            value.is_int = false;
            value.bytes.resize(sizeof fields);
            std::memcpy(value.bytes.data(), fields, sizeof fields);
            break;
        }
        default:
            return CallResult::not_supported("getsockopt SOL_SOCKET option " +
                                             std::to_string(name));
    }
    return CallResult::ok();
}

CallResult EngineSockets::set_socket_option(EngineSocket& s, int name, const OptionValue& value) {
    if (name == SO_LINGER) {
        if (value.is_int || value.bytes.size() < 2 * sizeof(int)) return CallResult::fail(EINVAL);
        int fields[2];
        std::memcpy(fields, value.bytes.data(), sizeof fields);
        s.linger_on = fields[0] != 0;
        s.linger_seconds = std::max(0, fields[1]);
        return CallResult::ok();
    }
    const auto v = int_of(value);
    switch (name) {
        case SO_TYPE:
        case SO_ERROR:
        case SO_DOMAIN:
        case SO_PROTOCOL:
        case SO_ACCEPTCONN:
        case SO_SNDLOWAT: return CallResult::fail(ENOPROTOOPT);  // read-only in Linux
        default: break;
    }
    if (!v) return CallResult::fail(EINVAL);
    std::string why;
    switch (name) {
        case SO_REUSEADDR: s.reuseaddr = *v != 0; break;
        case SO_REUSEPORT:
            if (*v != 0) return CallResult::not_supported("SO_REUSEPORT (one listener per port)");
            break;
        case SO_RCVLOWAT:
            if (*v != 1) return CallResult::not_supported("SO_RCVLOWAT other than 1");
            break;
        case SO_KEEPALIVE:
            why = engine_option(s.fd, "keepalive", *v ? "true" : "false");
            if (why.empty()) s.keepalive = *v != 0;
            break;
        case SO_RCVBUF:
            why = engine_option(s.fd, "rcvbuf",
                                std::to_string(linux_buffer(*v, kRmemMax, kMinRcvbuf) / 2));
            if (why.empty()) s.rcvbuf = *v;
            break;
        case SO_SNDBUF:
            why = engine_option(s.fd, "sndbuf",
                                std::to_string(linux_buffer(*v, kWmemMax, kMinSndbuf) / 2));
            if (why.empty()) s.sndbuf = *v;
            break;
        default:
            return CallResult::not_supported("setsockopt SOL_SOCKET option " +
                                             std::to_string(name));
    }
    if (!why.empty()) return CallResult::not_supported(why);
    return CallResult::ok();
}

CallResult EngineSockets::get_tcp_option(EngineSocket& s, int name, OptionValue& value) {
    const tcp::EngineOptions& engine = stack_.effective();
    const TcpState state = state_of(s);
    switch (name) {
        case TCP_NODELAY: value = int_value(s.nodelay ? 1 : 0); break;
        case TCP_CORK: value = int_value(0); break;
        case TCP_MAXSEG:
            // do_tcp_getsockopt: mss_cache, or the user's value while CLOSE or LISTEN.
            if (s.connection && state != TcpState::closed)
                value = int_value(s.connection->info().mss);
            else
                value = int_value(s.maxseg.value_or(kDefaultMss));
            break;
        case TCP_KEEPIDLE:
            value = int_value(s.keepidle.value_or(seconds(engine.keepalive_idle)));
            break;
        case TCP_KEEPINTVL:
            value = int_value(s.keepintvl.value_or(seconds(engine.keepalive_interval)));
            break;
        case TCP_KEEPCNT: value = int_value(s.keepcnt.value_or(engine.keepalive_count)); break;
        case TCP_SYNCNT: value = int_value(s.syncnt.value_or(engine.max_syn_retransmits)); break;
        case TCP_CONGESTION: {
            // The name, NUL-padded to TCP_CA_NAME_MAX as Linux copies it.
            const std::string name_text = engine.cubic ? "cubic" : "reno";
            value.is_int = false;
            value.bytes.assign(16, 0);
            std::copy(name_text.begin(), name_text.end(), value.bytes.begin());
            break;
        }
        case TCP_INFO:
            return CallResult::not_supported("getsockopt TCP_INFO (only %{ }% snapshots)");
        default:
            return CallResult::not_supported("getsockopt IPPROTO_TCP option " +
                                             std::to_string(name));
    }
    return CallResult::ok();
}

CallResult EngineSockets::set_tcp_option(EngineSocket& s, int name, const OptionValue& value) {
    if (name == TCP_CONGESTION) {
        std::string text(value.bytes.begin(), value.bytes.end());
        text = text.substr(0, text.find('\0'));
        if (value.is_int || (text != "cubic" && text != "reno"))
            return CallResult::not_supported("TCP_CONGESTION '" + text +
                                             "' (the engines have cubic and reno)");
        const std::string why = engine_option(s.fd, "cc", text == "reno" ? "newreno" : "cubic");
        return why.empty() ? CallResult::ok() : CallResult::not_supported(why);
    }
    const auto v = int_of(value);
    if (!v) return CallResult::fail(EINVAL);
    std::string why;
    auto in_range = [&](int lo, int hi) { return *v >= lo && *v <= hi; };
    switch (name) {
        case TCP_NODELAY:
            s.nodelay = *v != 0;
            if (s.connection) s.connection->set_nodelay(s.nodelay);
            break;
        case TCP_CORK:
            if (*v != 0) return CallResult::not_supported("TCP_CORK");
            break;
        case TCP_MAXSEG:
            if (*v != 0 && !in_range(kMinUserMss, kMaxUserMss)) return CallResult::fail(EINVAL);
            if (s.connection && state_of(s) != TcpState::closed)
                return CallResult::not_supported("TCP_MAXSEG on a connected socket");
            // The engine's `mss` is the MSS it advertises; Linux also caps its own segments
            // at the user's value, which the engines do not.
            why =
                engine_option(s.fd, "mss", std::to_string(*v ? *v : tcp::ConnectionOptions{}.mss));
            if (why.empty()) s.maxseg = *v ? std::optional<int>(*v) : std::nullopt;
            break;
        case TCP_KEEPIDLE:
            if (!in_range(1, kMaxKeepIdle)) return CallResult::fail(EINVAL);
            why = engine_option(s.fd, "keepalive_idle", std::to_string(*v) + "s");
            if (why.empty()) s.keepidle = *v;
            break;
        case TCP_KEEPINTVL:
            if (!in_range(1, kMaxKeepIdle)) return CallResult::fail(EINVAL);
            why = engine_option(s.fd, "keepalive_interval", std::to_string(*v) + "s");
            if (why.empty()) s.keepintvl = *v;
            break;
        case TCP_KEEPCNT:
            if (!in_range(1, kMaxKeepCnt)) return CallResult::fail(EINVAL);
            why = engine_option(s.fd, "keepalive_count", std::to_string(*v));
            if (why.empty()) s.keepcnt = *v;
            break;
        case TCP_SYNCNT:
            if (!in_range(1, kMaxSynCnt)) return CallResult::fail(EINVAL);
            why = engine_option(s.fd, "syn_retransmits", std::to_string(*v));
            if (why.empty()) s.syncnt = *v;
            break;
        default:
            return CallResult::not_supported("setsockopt IPPROTO_TCP option " +
                                             std::to_string(name));
    }
    if (!why.empty()) return CallResult::not_supported(why);
    return CallResult::ok();
}

CallResult EngineSockets::fcntl(int fd, int command, std::int64_t argument) {
    EngineSocket* s = find(fd);
    if (!s) return CallResult::fail(EBADF);
    switch (command) {
        case F_GETFL: return CallResult::ok(O_RDWR | (s->nonblocking ? O_NONBLOCK : 0));
        case F_SETFL:
            // setfl: only O_APPEND, O_NONBLOCK, O_ASYNC, O_DIRECT and O_NOATIME can change.
            if (argument & O_ASYNC) return CallResult::not_supported("O_ASYNC (SIGIO)");
            s->nonblocking = (argument & O_NONBLOCK) != 0;
            return CallResult::ok();
        case F_GETFD: return CallResult::ok(s->cloexec ? FD_CLOEXEC : 0);
        case F_SETFD: s->cloexec = (argument & FD_CLOEXEC) != 0; return CallResult::ok();
        default: return CallResult::not_supported("fcntl command " + std::to_string(command));
    }
}

CallResult EngineSockets::ioctl(int fd, unsigned long request, std::int64_t& value) {
    EngineSocket* s = find(fd);
    if (!s) return CallResult::fail(EBADF);
    observe_all();
    const TcpState state = state_of(*s);
    const bool opening = state == TcpState::syn_sent || state == TcpState::syn_received;
    switch (request) {
        case SIOCINQ:  // == FIONREAD
            if (state == TcpState::listen) return CallResult::fail(EINVAL);
            value = (!opening && s->connection)
                        ? static_cast<std::int64_t>(s->connection->readable_bytes())
                        : 0;
            return CallResult::ok();
        case SIOCOUTQ: {  // write_seq - snd_una: written and not yet acknowledged
            if (state == TcpState::listen) return CallResult::fail(EINVAL);
            std::int64_t queued = 0;
            if (!opening && s->connection) {
                const std::uint64_t acked = s->connection->info().bytes_acked;
                queued = s->written > acked ? static_cast<std::int64_t>(s->written - acked) : 0;
            }
            value = queued;
            return CallResult::ok();
        }
        default: return CallResult::not_supported("ioctl request " + std::to_string(request));
    }
}

std::optional<TcpInfoSnapshot> EngineSockets::tcp_info(int fd) {
    EngineSocket* s = find(fd);
    if (!s) return std::nullopt;
    observe_all();
    TcpInfoSnapshot snapshot;
    snapshot.state = linux_state(state_of(*s));
    if (s->connection) {
        const TcpInfo info = s->connection->info();
        if (info.timestamps_enabled) snapshot.options |= 1;  // TCPI_OPT_TIMESTAMPS
        if (info.sack_enabled) snapshot.options |= 2;        // TCPI_OPT_SACK
        // TCPI_OPT_WSCALE: the engines expose the shifts, not whether scaling was agreed, so
        // an agreement on shift 0 both ways reads as "not agreed".
        if (info.snd_wscale || info.rcv_wscale) snapshot.options |= 4;
        snapshot.snd_mss = info.mss;
        snapshot.rto_us = info.rto_us;
        snapshot.snd_cwnd_segments = info.mss ? info.cwnd / info.mss : 0;
    }
    return snapshot;
}

std::optional<std::size_t> EngineSockets::count(std::uint8_t wanted) {
    observe_all();
    constexpr std::uint8_t kListen = 10, kTimeWait = 6;
    std::size_t listeners = 0, in_state = 0, live = 0;
    auto note = [&](TcpState state) {
        if (linux_state(state) == wanted) ++in_state;
        if (state != TcpState::closed && state != TcpState::time_wait) ++live;
    };
    for (const auto& [fd, s] : fds_) {
        if (s->listener) ++listeners;
        note(state_of(*s));
        for (const auto& c : s->ready) note(c->state());
    }
    for (const Orphan& o : orphans_) note(o.connection->state());
    if (wanted == kListen) return listeners;
    if (wanted == kTimeWait) return stack_.engine_counter("time_wait_current").value_or(0);
    // Connections nobody accepted yet live only in the engine, which counts them without
    // telling their states: SYN-RECEIVED, ESTABLISHED or CLOSE-WAIT may then be unknown.
    const auto total = stack_.engine_counter("connections_current");
    const auto time_wait = stack_.engine_counter("time_wait_current");
    const std::size_t engine_live =
        total && time_wait && *total > *time_wait ? *total - *time_wait : 0;
    const std::size_t own_live = live - listeners;  // listeners were counted as live states
    const bool hidden = engine_live > own_live;
    if (hidden && (wanted == 1 || wanted == 3 || wanted == 8)) return std::nullopt;
    return in_state;
}

}  // namespace netloom::drill
