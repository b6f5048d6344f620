// linux_target.hpp — the Linux kernel as a `netloom drill` target: real system calls in a
// network namespace of the target's own, whose only link to the outside is a TUN device.
//
// Contract (beyond target.hpp): needs root; the constructor throws std::runtime_error saying
// why when it cannot build its sandbox (not root, no /dev/net/tun, ip_version other than 4).
// It moves the calling thread into a fresh network namespace (unshare(CLONE_NEWNET), per
// thread) holding `lo` and the TUN `drill0` (linux_target_netns.hpp); the destructor closes
// every socket, the TUN, and moves the thread back, and the kernel frees the namespace. The
// interpreter runs each script in a forked child, so nothing a script does outlives it.
// - Clock: CLOCK_MONOTONIC µs since the constructor returned; real time, so run_until sleeps.
//   While the target exists the thread that made it runs at nice -20 (restored by the
//   destructor; skipped if refused): on a loaded machine a normal-priority interpreter woke
//   10-80 ms late a few times per conformance run (inbound "timing error"s on a 2-vCPU VM
//   shared with builds); at -20 none in the same conditions. Its capture thread runs SCHED_FIFO.
// - Capture: a reader thread drains the TUN and timestamps each datagram when it reads it
//   (linux_target_capture.hpp), also while the interpreter is blocked in accept/recv/connect.
//   No checksum or segmentation offload is enabled on the TUN, so the kernel hands out
//   MSS-sized segments with final checksums (upstream packetdrill enables TSO through a
//   virtio-net header and then has to match one large packet against several script lines).
// - inject: one write() per datagram, exactly as given (checksums untouched: the kernel checks
//   them, so a script can send a bad one on purpose).
// - Sockets: the kernel's own fds and errno values. bind/connect use local_ip:bind_port and
//   remote_ip:connect_port (v4-mapped for an AF_INET6 socket). An fd the target did not open
//   gets EBADF (so a script can never reach the TUN or other fds of the process). send adds
//   MSG_NOSIGNAL (a write to a reset connection returns EPIPE instead of killing the process)
//   and, with MSG_FASTOPEN, passes remote_ip:connect_port (sendto, TCP Fast Open). Buffers are
//   at most kMaxBufferBytes (larger: unsupported). A call that blocks longer than the limit
//   (kBlockingLimitUs) is interrupted by a thread-directed timer signal (SIGRTMIN + 4, a
//   no-op handler without SA_RESTART) and returns unsupported "blocking call never completes".
//   Calls on an existing fd may come from any thread (a blocking call run aside); socket(),
//   set_sysctl and count_connections depend on the calling thread's namespace, so from a
//   thread outside the target's they refuse (unsupported / an error / nullopt) rather than
//   touch the host. Closing an fd does not wake a thread blocked on it; shutdown(SHUT_RDWR)
//   does (a listener's accept then fails with EINVAL).
//   getsockopt returns the value at the length the kernel gives it (a 1 KiB buffer, or
//   value.bytes.size() when the caller passes !is_int with bytes): `bytes` holds exactly those
//   optlen bytes, `is_int` says whether that is one int (4 bytes) and `integer` is it. So an
//   int option, struct linger (8 bytes) and a string (TCP_CONGESTION) each come back whole.
//   fcntl: F_GETFL F_SETFL F_GETFD F_SETFD; ioctl (value out): FIONREAD/SIOCINQ SIOCOUTQ
//   SIOCOUTQNSD SIOCATMARK;
//   anything else is unsupported (pointer arguments are not expressible).
// - tcp_info: tcpi_options is passed through raw (Linux may add bits above ECN, e.g. SYN_DATA).
// - count_connections: rows of /proc/thread-self/net/tcp and tcp6 in that state (listeners,
//   request sockets as SYN_RECV, TIME_WAIT included); CLOSE (7) sockets are never hashed, so
//   for 7 it counts the target's open TCP sockets whose TCP_INFO state is CLOSE.
// - set_sysctl(name, value): writes /proc/sys/net/ipv4/<name> (dots become '/'; a name starting
//   with "net." is taken as the full path), in the namespace only.
//
// Baseline sysctls of the namespace, and why. A new namespace starts with kernel defaults for
// most TCP settings but copies a few from the host's initial namespace; those are pinned to the
// stock values so a tuned host cannot change what the scripts see. Nothing that scripts test is
// moved away from the stock kernel's behaviour:
// - net.ipv6.conf.{all,default,drill0}.disable_ipv6 = 1: no link-local address, so no DAD,
//   router solicitation or MLD report ever appears on the TUN (ip_version 4 only for now).
// - net.ipv4.tcp_congestion_control = cubic: inherited from the host otherwise (bbr on some
//   hosts, which paces and probes, so segment timing would not be the stock kernel's).
// - net.ipv4.tcp_rmem = "4096 131072 6291456", tcp_wmem = "4096 16384 4194304": copied from
//   the host otherwise; tcp_rmem[2] decides the window scale the SYN announces and the receive
//   window growth. These are the stock values of a machine with more than ~800 MB of memory.
// - A pfifo root qdisc on drill0 (not a sysctl): the host's net.core.default_qdisc could be fq,
//   which paces flows and breaks timing (upstream packetdrill installs pfifo for the same
//   reason).
// Deliberately left at their defaults: tcp_autocorking (the TUN orphans each skb as it queues
// it, so a socket never has bytes "in the device" long enough to cork), tcp_no_metrics_save
// (each script gets an empty metrics cache in its fresh namespace; connections within one script
// share it like on any Linux host), tcp_syn_linear_timeouts (4 on kernels >= 6.5: the first SYN
// retransmissions are 1 s apart, not doubled), tcp_timestamps, tcp_sack, tcp_window_scaling,
// tcp_ecn, tcp_fastopen, tcp_syncookies: scripts set those with `sysctl -w` when they care.
// net.core.{r,w}mem_{max,default} are copied from the host by the kernel and left alone: they
// only matter for SO_RCVBUF/SO_SNDBUF requests beyond them.
#pragma once

#include <cstdint>
#include <memory>

#include "target.hpp"

namespace netloom::drill {

/// Largest recv/send buffer a call may ask for (the bytes are allocated).
constexpr std::size_t kMaxBufferBytes = std::size_t{64} << 20;

std::unique_ptr<Target> make_linux_target(const TargetOptions& options);

/// As above with another limit for blocking calls (tests use a short one).
std::unique_ptr<Target> make_linux_target(const TargetOptions& options,
                                          std::int64_t blocking_limit_us);

}  // namespace netloom::drill
