// The symbol table: taken from the system headers, so the values are the kernel's own.
#include "drill/symbols.hpp"

#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

namespace netloom::drill {
namespace {

#define NL_SYM(name) \
    { #name, static_cast < std::int64_t>(name) }

const std::unordered_map<std::string_view, std::int64_t>& table() {
    static const std::unordered_map<std::string_view, std::int64_t> symbols = {
        // families, types, protocols, levels
        NL_SYM(AF_INET),
        NL_SYM(AF_INET6),
        NL_SYM(AF_UNSPEC),
        NL_SYM(PF_INET),
        NL_SYM(PF_INET6),
        NL_SYM(SOCK_STREAM),
        NL_SYM(SOCK_DGRAM),
        NL_SYM(SOCK_RAW),
        NL_SYM(SOCK_NONBLOCK),
        NL_SYM(SOCK_CLOEXEC),
        NL_SYM(IPPROTO_TCP),
        NL_SYM(IPPROTO_UDP),
        NL_SYM(IPPROTO_IP),
        NL_SYM(IPPROTO_IPV6),
        NL_SYM(IPPROTO_ICMP),
        NL_SYM(SOL_SOCKET),
        NL_SYM(SOL_TCP),
        NL_SYM(SOL_IP),
        // SOL_SOCKET options
        NL_SYM(SO_ERROR),
        NL_SYM(SO_RCVBUF),
        NL_SYM(SO_SNDBUF),
        NL_SYM(SO_REUSEADDR),
        NL_SYM(SO_REUSEPORT),
        NL_SYM(SO_KEEPALIVE),
        NL_SYM(SO_LINGER),
        NL_SYM(SO_TYPE),
        NL_SYM(SO_RCVLOWAT),
        NL_SYM(SO_SNDLOWAT),
        NL_SYM(SO_RCVTIMEO),
        NL_SYM(SO_SNDTIMEO),
        NL_SYM(SO_OOBINLINE),
        NL_SYM(SO_ACCEPTCONN),
        NL_SYM(SO_DEBUG),
        NL_SYM(SO_DONTROUTE),
        NL_SYM(SO_BROADCAST),
        NL_SYM(SO_PRIORITY),
        NL_SYM(SO_MARK),
        NL_SYM(SO_TIMESTAMP),
        NL_SYM(SO_TIMESTAMPING),
        NL_SYM(SO_ZEROCOPY),
        NL_SYM(SCM_TIMESTAMPING),
        // SO_TIMESTAMPING flags and error-queue records (linux/net_tstamp.h, linux/errqueue.h)
        NL_SYM(SOF_TIMESTAMPING_TX_HARDWARE),
        NL_SYM(SOF_TIMESTAMPING_TX_SOFTWARE),
        NL_SYM(SOF_TIMESTAMPING_RX_HARDWARE),
        NL_SYM(SOF_TIMESTAMPING_RX_SOFTWARE),
        NL_SYM(SOF_TIMESTAMPING_SOFTWARE),
        NL_SYM(SOF_TIMESTAMPING_RAW_HARDWARE),
        NL_SYM(SOF_TIMESTAMPING_OPT_ID),
        NL_SYM(SOF_TIMESTAMPING_TX_SCHED),
        NL_SYM(SOF_TIMESTAMPING_TX_ACK),
        NL_SYM(SOF_TIMESTAMPING_OPT_CMSG),
        NL_SYM(SOF_TIMESTAMPING_OPT_TSONLY),
        NL_SYM(SOF_TIMESTAMPING_OPT_STATS),
        NL_SYM(SCM_TSTAMP_SND),
        NL_SYM(SCM_TSTAMP_SCHED),
        NL_SYM(SCM_TSTAMP_ACK),
        NL_SYM(SO_EE_ORIGIN_NONE),
        NL_SYM(SO_EE_ORIGIN_LOCAL),
        NL_SYM(SO_EE_ORIGIN_ICMP),
        NL_SYM(SO_EE_ORIGIN_TIMESTAMPING),
        NL_SYM(SO_EE_ORIGIN_ZEROCOPY),
        NL_SYM(SO_EE_CODE_ZEROCOPY_COPIED),
        // IPPROTO_TCP options
        NL_SYM(TCP_NODELAY),
        NL_SYM(TCP_MAXSEG),
        NL_SYM(TCP_CORK),
        NL_SYM(TCP_KEEPIDLE),
        NL_SYM(TCP_KEEPINTVL),
        NL_SYM(TCP_KEEPCNT),
        NL_SYM(TCP_SYNCNT),
        NL_SYM(TCP_LINGER2),
        NL_SYM(TCP_DEFER_ACCEPT),
        NL_SYM(TCP_WINDOW_CLAMP),
        NL_SYM(TCP_INFO),
        NL_SYM(TCP_QUICKACK),
        NL_SYM(TCP_CONGESTION),
        NL_SYM(TCP_MD5SIG),
        NL_SYM(TCP_USER_TIMEOUT),
        NL_SYM(TCP_FASTOPEN),
        NL_SYM(TCP_NOTSENT_LOWAT),
        NL_SYM(TCP_FASTOPEN_CONNECT),
        NL_SYM(TCP_SAVE_SYN),
        NL_SYM(TCP_SAVED_SYN),
        NL_SYM(TCP_REPAIR),
        NL_SYM(TCP_THIN_LINEAR_TIMEOUTS),
        NL_SYM(TCP_FASTOPEN_KEY),
        NL_SYM(TCP_INQ),
        NL_SYM(TCP_CM_INQ),
        // IPPROTO_IP options and TOS values
        NL_SYM(IP_TOS),
        NL_SYM(IP_TTL),
        NL_SYM(IP_MTU_DISCOVER),
        NL_SYM(IP_MTU),
        NL_SYM(IP_PMTUDISC_DO),
        NL_SYM(IP_PMTUDISC_DONT),
        NL_SYM(IP_PMTUDISC_WANT),
        NL_SYM(IP_RECVERR),
        NL_SYM(IP_FREEBIND),
        NL_SYM(IPTOS_LOWDELAY),
        NL_SYM(IPTOS_THROUGHPUT),
        NL_SYM(IPTOS_RELIABILITY),
        NL_SYM(IPTOS_MINCOST),
        {"IPTOS_DSCP_CS1", 0x20},
        {"IPTOS_DSCP_AF11", 0x28},
        {"IPTOS_DSCP_EF", 0xb8},
        // fcntl, ioctl
        NL_SYM(F_GETFL),
        NL_SYM(F_SETFL),
        NL_SYM(F_GETFD),
        NL_SYM(F_SETFD),
        NL_SYM(O_RDWR),
        NL_SYM(O_RDONLY),
        NL_SYM(O_WRONLY),
        NL_SYM(O_NONBLOCK),
        NL_SYM(O_NDELAY),
        NL_SYM(FD_CLOEXEC),
        NL_SYM(FIONREAD),
        NL_SYM(FIONBIO),
        NL_SYM(SIOCINQ),
        NL_SYM(SIOCOUTQ),
        NL_SYM(SIOCOUTQNSD),
        // send/recv flags, shutdown
        NL_SYM(MSG_PEEK),
        NL_SYM(MSG_DONTWAIT),
        NL_SYM(MSG_WAITALL),
        NL_SYM(MSG_OOB),
        NL_SYM(MSG_MORE),
        NL_SYM(MSG_NOSIGNAL),
        NL_SYM(MSG_TRUNC),
        NL_SYM(MSG_ZEROCOPY),
        NL_SYM(MSG_FASTOPEN),
        NL_SYM(MSG_EOR),
        NL_SYM(MSG_ERRQUEUE),
        NL_SYM(SHUT_RD),
        NL_SYM(SHUT_WR),
        NL_SYM(SHUT_RDWR),
        // poll
        NL_SYM(POLLIN),
        NL_SYM(POLLOUT),
        NL_SYM(POLLERR),
        NL_SYM(POLLHUP),
        NL_SYM(POLLNVAL),
        NL_SYM(POLLPRI),
        NL_SYM(POLLRDNORM),
        NL_SYM(POLLWRNORM),
        NL_SYM(POLLRDHUP),
        NL_SYM(POLLRDBAND),
        NL_SYM(POLLWRBAND),
        // epoll
        NL_SYM(EPOLLIN),
        NL_SYM(EPOLLOUT),
        NL_SYM(EPOLLERR),
        NL_SYM(EPOLLHUP),
        NL_SYM(EPOLLRDHUP),
        NL_SYM(EPOLLPRI),
        NL_SYM(EPOLLET),
        NL_SYM(EPOLLONESHOT),
        NL_SYM(EPOLLEXCLUSIVE),
        NL_SYM(EPOLL_CTL_ADD),
        NL_SYM(EPOLL_CTL_MOD),
        NL_SYM(EPOLL_CTL_DEL),
        // errno
        NL_SYM(EPERM),
        NL_SYM(ENOENT),
        NL_SYM(EINTR),
        NL_SYM(EIO),
        NL_SYM(EBADF),
        NL_SYM(EAGAIN),
        NL_SYM(EWOULDBLOCK),
        NL_SYM(ENOMEM),
        NL_SYM(EACCES),
        NL_SYM(EFAULT),
        NL_SYM(EBUSY),
        NL_SYM(EEXIST),
        NL_SYM(EINVAL),
        NL_SYM(ENFILE),
        NL_SYM(EMFILE),
        NL_SYM(ENOSPC),
        NL_SYM(EPIPE),
        NL_SYM(ENOTSOCK),
        NL_SYM(EDESTADDRREQ),
        NL_SYM(EMSGSIZE),
        NL_SYM(EPROTOTYPE),
        NL_SYM(ENOPROTOOPT),
        NL_SYM(EPROTONOSUPPORT),
        NL_SYM(ESOCKTNOSUPPORT),
        NL_SYM(EOPNOTSUPP),
        NL_SYM(ENOTSUP),
        NL_SYM(EPFNOSUPPORT),
        NL_SYM(EAFNOSUPPORT),
        NL_SYM(EADDRINUSE),
        NL_SYM(EADDRNOTAVAIL),
        NL_SYM(ENETDOWN),
        NL_SYM(ENETUNREACH),
        NL_SYM(ENETRESET),
        NL_SYM(ECONNABORTED),
        NL_SYM(ECONNRESET),
        NL_SYM(ENOBUFS),
        NL_SYM(EISCONN),
        NL_SYM(ENOTCONN),
        NL_SYM(ESHUTDOWN),
        NL_SYM(ETIMEDOUT),
        NL_SYM(ECONNREFUSED),
        NL_SYM(EHOSTDOWN),
        NL_SYM(EHOSTUNREACH),
        NL_SYM(EALREADY),
        NL_SYM(EINPROGRESS),
        NL_SYM(ENOSYS),
        NL_SYM(EPROTO),
        NL_SYM(ENOMSG),
        // misc
        {"NULL", 0},
        {"INADDR_ANY", 0},
    };
    return symbols;
}

}  // namespace

std::optional<std::int64_t> lookup_symbol(std::string_view name) {
    auto it = table().find(name);
    if (it == table().end()) return std::nullopt;
    return it->second;
}

std::string errno_name(int value) {
    // EAGAIN and EWOULDBLOCK share a value on Linux: scripts write either; name the first.
    if (value == EAGAIN) return "EAGAIN";
    for (const auto& [name, v] : table()) {
        if (v == value && name.size() > 1 && name[0] == 'E' && name != "EWOULDBLOCK" &&
            name != "ENOTSUP")
            return std::string(name);
    }
    return "";
}

std::string errno_text(int value) {
    char buffer[128];
    // GNU strerror_r returns the message (possibly not in buffer).
    const char* text = strerror_r(value, buffer, sizeof buffer);
    return text ? text : "";
}

}  // namespace netloom::drill
