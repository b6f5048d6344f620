// target.hpp — what `netloom drill` runs a script against: a clock, a packet tap on the one
// interface of the stack under test, and a POSIX socket API. Two kinds: an in-process netloom
// stack with tcp_utcp or tcp_classic on the `sim` clock (engine_target.hpp), and the Linux kernel
// behind a TUN device in a network namespace of its own (linux_target.hpp).
//
// Contract: single-threaded, driven by the interpreter only. Time is microseconds since the
// target was created (the script's time 0 is taken by the interpreter from `now_us`). Packets
// cross as whole IP datagrams (IPv4 header first; L2 is the target's business: it answers ARP
// itself). Every outbound datagram of the stack is queued in order from the moment the target
// exists; `next_packet` hands them out FIFO, letting time pass (virtual or real) until one is
// there or `deadline_us`. Socket calls take and return Linux numbers (errno, AF_*, SOL_*, O_*,
// SO_*, TCP_*, MSG_*, POLL*) whatever the target; a call a target cannot express returns
// `unsupported` with a short name of what is missing, never a made-up result. A blocking call on
// a blocking socket lets time pass until it completes (on an engine: runs the sim; it gives up
// after `kBlockingLimitUs` of script time with `unsupported` "blocking call never completes").
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace netloom::drill {

/// Everything a target needs to know before the script runs (command line and script options).
struct TargetOptions {
    int ip_version = 4;                    ///< 4 (6 only on linux, later)
    std::string local_ip = "192.168.0.1";  ///< the stack under test
    std::string remote_ip = "192.0.2.1";   ///< the script's peer
    std::string gateway_ip = "192.168.0.2";
    int prefix_length = 16;  ///< of local_ip; remote_ip is reached through gateway_ip
    std::uint32_t mtu = 1500;
    std::uint16_t bind_port = 8080;     ///< bind(fd, ..., ...) binds local_ip:bind_port
    std::uint16_t connect_port = 8080;  ///< connect(fd, ..., ...) goes to remote_ip:connect_port
    std::string engine;                 ///< "tcp_utcp", "tcp_classic" (engine targets)
    std::string base_config;   ///< --config BASE.yaml: engine keys merged under the stack's tcp:
    std::string extra_config;  ///< YAML text of the script's `//! config:` directives, merged last
    std::vector<std::string> plugin_path;  ///< --plugin-path, for engine targets
    bool verbose = false;
};

constexpr std::int64_t kBlockingLimitUs = 600'000'000;  // 10 min of script time

struct CapturedPacket {
    std::int64_t at_us = 0;
    std::vector<std::uint8_t> datagram;  ///< IPv4 (or IPv6) header onwards
};

/// A system call's outcome: `value` as the call returns it (-1 on error, then `error` is the
/// Linux errno). `unsupported` non-empty: the target cannot express the call or its arguments.
struct CallResult {
    std::int64_t value = 0;
    int error = 0;
    std::string unsupported;
    static CallResult ok(std::int64_t v = 0) { return {v, 0, {}}; }
    static CallResult fail(int err) { return {-1, err, {}}; }
    static CallResult not_supported(std::string what) { return {-1, 0, std::move(what)}; }
};

/// A socket option value: an int (most options), raw bytes (strings, structs such as linger and
/// tcp_info), as Linux lays them out.
struct OptionValue {
    bool is_int = true;
    std::int64_t integer = 0;
    std::vector<std::uint8_t> bytes;
};

struct PollEntry {
    int fd = -1;
    short events = 0;
    short revents = 0;  ///< out
};

/// TCP_INFO as `%{ }%` blocks see it (tcpi_state uses Linux's TCP_ESTABLISHED=1... numbering).
struct TcpInfoSnapshot {
    std::uint8_t state = 0;    ///< Linux tcp_states.h numbering
    std::uint8_t options = 0;  ///< TCPI_OPT_TIMESTAMPS 1, SACK 2, WSCALE 4, ECN 8
    std::uint32_t snd_mss = 0, rcv_mss = 0, rto_us = 0, snd_cwnd_segments = 0;
};

class Target {
public:
    virtual ~Target() = default;
    /// "tcp_utcp", "tcp_classic", "linux".
    virtual std::string name() const = 0;

    // ---- clock and wire ----
    virtual std::int64_t now_us() = 0;
    /// Lets time pass until `t_us` (no-op if already past); the stack runs meanwhile.
    virtual void run_until(std::int64_t t_us) = 0;
    /// Oldest not yet handed out outbound datagram, waiting until `deadline_us` at most.
    virtual std::optional<CapturedPacket> next_packet(std::int64_t deadline_us) = 0;
    /// Delivers `datagram` to the stack as if it arrived on the interface now. The checksums are
    /// the interpreter's (a script may send a bad one on purpose).
    virtual void inject(std::span<const std::uint8_t> datagram) = 0;

    // ---- configuration commands (backquoted `sysctl -w`, see commands.hpp) ----
    /// Applies a setting by its Linux sysctl name without the "net.ipv4." prefix
    /// ("tcp_sack", "tcp_timestamps", "tcp_window_scaling", "tcp_syncookies", "tcp_rmem"...).
    /// Returns "" when applied, else why not (then the script is "unsupported").
    virtual std::string set_sysctl(const std::string& name, const std::string& value) = 0;
    /// Number of TCP connections of the stack in `linux_state` (tcp_states.h numbering).
    virtual std::optional<std::size_t> count_connections(std::uint8_t linux_state) = 0;

    // ---- sockets (Linux numbers; see the contract above) ----
    virtual CallResult socket(int domain, int type, int protocol) = 0;
    /// bind to local_ip:bind_port.
    virtual CallResult bind(int fd) = 0;
    virtual CallResult listen(int fd, int backlog) = 0;
    virtual CallResult accept(int fd) = 0;
    /// connect to remote_ip:connect_port; `unspec`: AF_UNSPEC (disconnect).
    virtual CallResult connect(int fd, bool unspec) = 0;
    /// read/recv/recvfrom/readv: reads at most `length` bytes; flags MSG_PEEK, MSG_DONTWAIT...
    virtual CallResult recv(int fd, std::size_t length, int flags) = 0;
    /// write/send/sendto/writev: `length` zero bytes; flags MSG_DONTWAIT, MSG_MORE...
    virtual CallResult send(int fd, std::size_t length, int flags) = 0;
    virtual CallResult shutdown(int fd, int how) = 0;
    virtual CallResult close(int fd) = 0;
    virtual CallResult getsockopt(int fd, int level, int name, OptionValue& value) = 0;
    virtual CallResult setsockopt(int fd, int level, int name, const OptionValue& value) = 0;
    /// F_GETFL / F_SETFL (arg: O_* flags).
    virtual CallResult fcntl(int fd, int command, std::int64_t argument) = 0;
    /// FIONREAD/SIOCINQ, SIOCOUTQ: `value` out.
    virtual CallResult ioctl(int fd, unsigned long request, std::int64_t& value) = 0;
    virtual CallResult poll(std::vector<PollEntry>& entries, int timeout_ms) = 0;
    /// TCP_INFO of `fd`'s connection (for `%{ }%` blocks); nullopt if fd is not a TCP socket.
    virtual std::optional<TcpInfoSnapshot> tcp_info(int fd) = 0;

    /// End of script: close every open fd (the interpreter then injects RSTs and drops us).
    virtual void close_all() = 0;
};

}  // namespace netloom::drill
