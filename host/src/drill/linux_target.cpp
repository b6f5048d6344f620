// linux_target.cpp — see linux_target.hpp: the Target over the kernel's socket API.
#include "linux_target.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "linux_target_capture.hpp"
#include "linux_target_netns.hpp"

namespace netloom::drill {
namespace {

using linux_target_detail::monotonic_ns;

constexpr std::uint8_t kTcpClose = 7;  // tcp_states.h TCP_CLOSE
constexpr std::size_t kMaxOptionBytes = 65536;
constexpr std::size_t kDefaultOptionBuffer = 1024;

// The signal that cuts a blocking call short; glibc keeps its own real-time signals below
// SIGRTMIN, so SIGRTMIN + 4 belongs to the application.
int blocking_signal() {
    return SIGRTMIN + 4;
}

void ignore_signal(int) {}

/// While alive, a one-shot timer sends blocking_signal() to this thread `limit_us` from now. The
/// handler does nothing and is installed without SA_RESTART, so a system call still blocked then
/// returns EINTR; `expired` tells that case from any other interruption.
class BlockingLimit {
public:
    explicit BlockingLimit(std::int64_t limit_us) : deadline_ns_(monotonic_ns() + limit_us * 1000) {
        static std::once_flag installed;
        std::call_once(installed, [] {
            struct sigaction action {};
            action.sa_handler = ignore_signal;
            sigemptyset(&action.sa_mask);
            action.sa_flags = 0;
            ::sigaction(blocking_signal(), &action, nullptr);
        });
        sigevent event{};
        event.sigev_notify = SIGEV_THREAD_ID;
        event.sigev_signo = blocking_signal();
        event._sigev_un._tid = static_cast<pid_t>(::syscall(SYS_gettid));
        if (::timer_create(CLOCK_MONOTONIC, &event, &timer_) < 0) return;
        armed_ = true;
        itimerspec when{};
        when.it_value.tv_sec = static_cast<time_t>(limit_us / 1'000'000);
        when.it_value.tv_nsec = static_cast<long>(limit_us % 1'000'000) * 1000;
        if (when.it_value.tv_sec == 0 && when.it_value.tv_nsec == 0) when.it_value.tv_nsec = 1;
        ::timer_settime(timer_, 0, &when, nullptr);
    }
    ~BlockingLimit() {
        if (armed_) ::timer_delete(timer_);
    }
    BlockingLimit(const BlockingLimit&) = delete;
    BlockingLimit& operator=(const BlockingLimit&) = delete;

    /// The call failed with EINTR because of this limit.
    bool expired(std::int64_t result, int error) const {
        return result < 0 && error == EINTR && monotonic_ns() >= deadline_ns_;
    }

private:
    std::int64_t deadline_ns_;
    timer_t timer_{};
    bool armed_ = false;
};

CallResult from_syscall(std::int64_t result) {
    return result < 0 ? CallResult::fail(errno) : CallResult::ok(result);
}

/// Runs `call` (returns -1 and sets errno on failure) under a BlockingLimit.
template <class Call>
CallResult blocking(std::int64_t limit_us, Call call) {
    const BlockingLimit limit(limit_us);
    const std::int64_t result = call();
    const int error = errno;
    if (limit.expired(result, error))
        return CallResult::not_supported("blocking call never completes");
    return result < 0 ? CallResult::fail(error) : CallResult::ok(result);
}

/// A socket address for `fd`'s family: IPv4, or IPv4-mapped IPv6 for an AF_INET6 socket.
struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t length = 0;
    const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

SocketAddress address_for(int fd, in_addr ip, std::uint16_t port) {
    int domain = AF_INET;
    socklen_t domain_length = sizeof domain;
    (void)::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &domain_length);
    SocketAddress address;
    if (domain == AF_INET6) {
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        v6->sin6_addr.s6_addr[10] = 0xff;
        v6->sin6_addr.s6_addr[11] = 0xff;
        std::memcpy(&v6->sin6_addr.s6_addr[12], &ip, 4);
        address.length = sizeof(sockaddr_in6);
    } else {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        v4->sin_addr = ip;
        address.length = sizeof(sockaddr_in);
    }
    return address;
}

/// While alive, the constructing thread runs at nice kInterpreterNice (restored after; ignored
/// when refused). See linux_target.hpp: a real-time script needs the interpreter to wake on time.
class RaisedPriority {
public:
    RaisedPriority() : thread_(static_cast<id_t>(::syscall(SYS_gettid))) {
        errno = 0;
        const int previous = ::getpriority(PRIO_PROCESS, thread_);
        if (errno != 0) return;
        previous_ = previous;
        if (::setpriority(PRIO_PROCESS, thread_, kInterpreterNice) < 0) previous_.reset();
    }
    ~RaisedPriority() {
        if (previous_) (void)::setpriority(PRIO_PROCESS, thread_, *previous_);
    }
    RaisedPriority(const RaisedPriority&) = delete;
    RaisedPriority& operator=(const RaisedPriority&) = delete;

private:
    static constexpr int kInterpreterNice = -20;
    id_t thread_;
    std::optional<int> previous_;
};

/// Inode of the calling thread's network namespace (0 if unreadable).
ino_t current_namespace_inode() {
    struct stat info {};
    return ::stat("/proc/thread-self/ns/net", &info) == 0 ? info.st_ino : 0;
}

/// Counts rows of a /proc/net/tcp-style table whose `st` column is `state`.
std::size_t count_rows(const char* path, std::uint8_t state) {
    std::ifstream table(path);
    std::string line;
    std::getline(table, line);  // header
    std::size_t count = 0;
    while (std::getline(table, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, st;
        if (!(fields >> slot >> local >> remote >> st)) continue;
        if (std::strtoul(st.c_str(), nullptr, 16) == state) ++count;
    }
    return count;
}

/// "tcp_sack" -> "net/ipv4/tcp_sack"; "net.core.somaxconn" -> "net/core/somaxconn"; "" when the
/// name could leave /proc/sys/net (empty parts, "..", characters other than [A-Za-z0-9_.-]).
std::string sysctl_path(const std::string& name) {
    if (name.empty() || name.size() > 200) return "";
    std::string path = name.rfind("net.", 0) == 0 ? std::string() : "net/ipv4/";
    std::string part;
    const auto flush = [&] {
        if (part.empty() || part == "-") return false;
        path += part;
        part.clear();
        return true;
    };
    for (const char c : name) {
        if (c == '.' || c == '/') {
            if (!flush()) return "";
            path += '/';
        } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') {
            part += c;
        } else {
            return "";
        }
    }
    return flush() ? path : "";
}

class LinuxTarget final : public Target {
public:
    LinuxTarget(const TargetOptions& options, std::int64_t blocking_limit_us)
        : options_(options),
          blocking_limit_us_(blocking_limit_us),
          local_(linux_target_detail::parse_ipv4(options.local_ip, "local_ip")),
          remote_(linux_target_detail::parse_ipv4(options.remote_ip, "remote_ip")),
          sandbox_(options),
          epoch_ns_(monotonic_ns()),
          capture_(sandbox_.tun_fd(), epoch_ns_),
          namespace_inode_(current_namespace_inode()) {
        if (!sandbox_.congestion_control_is_default()) {
            socket_congestion_control_ = linux_target_detail::kCongestionControl;
        }
    }

    ~LinuxTarget() override { close_all(); }

    std::string name() const override { return "linux"; }

    std::int64_t now_us() override { return (monotonic_ns() - epoch_ns_) / 1000; }

    void run_until(std::int64_t t_us) override {
        // The reader thread keeps capturing meanwhile; this thread only sleeps.
        const std::int64_t target_ns = epoch_ns_ + std::min<std::int64_t>(t_us, kMaxSleepUs) * 1000;
        timespec until{static_cast<time_t>(target_ns / 1'000'000'000),
                       static_cast<long>(target_ns % 1'000'000'000)};
        while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
        }
    }

    std::optional<CapturedPacket> next_packet(std::int64_t deadline_us) override {
        return capture_.next(deadline_us);
    }

    void inject(std::span<const std::uint8_t> datagram) override { capture_.inject(datagram); }

    std::string set_sysctl(const std::string& name, const std::string& value) override {
        if (!in_target_namespace()) return "set_sysctl from a thread outside the namespace";
        const std::string path = sysctl_path(name);
        if (path.empty()) return "not a sysctl name: '" + name + "'";
        if (value.size() > 4096) return "value too long for " + name;
        for (const char c : value) {
            if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
                return "control character in the value for " + name;
            }
        }
        int error = 0;
        std::string why = linux_target_detail::write_proc_sys(path, value, &error);
        if (path == "net/ipv4/tcp_congestion_control") {
            // The host may forbid this default in a namespace (see the constructor): the
            // target's sockets then select the algorithm themselves.
            if (why.empty()) {
                socket_congestion_control_.clear();
            } else if (error == EPERM) {
                socket_congestion_control_ = value;
                why.clear();
            }
        }
        return why;
    }

    std::optional<std::size_t> count_connections(std::uint8_t linux_state) override {
        if (!in_target_namespace()) return std::nullopt;
        if (linux_state == kTcpClose) {
            std::size_t count = 0;
            for (const int fd : open_fds()) {
                const auto info = tcp_info(fd);
                if (info && info->state == kTcpClose) ++count;
            }
            return count;
        }
        return count_rows("/proc/thread-self/net/tcp", linux_state) +
               count_rows("/proc/thread-self/net/tcp6", linux_state);
    }

    CallResult socket(int domain, int type, int protocol) override {
        if (!in_target_namespace()) {
            return CallResult::not_supported("socket() from a thread outside the namespace");
        }
        if (domain != AF_INET && domain != AF_INET6) {
            return CallResult::not_supported("socket domain " + std::to_string(domain));
        }
        const int fd = ::socket(domain, type, protocol);
        if (fd < 0) return CallResult::fail(errno);
        const bool tcp = (type & 0xf) == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP);
        if (tcp && !socket_congestion_control_.empty() &&
            ::setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, socket_congestion_control_.data(),
                         static_cast<socklen_t>(socket_congestion_control_.size())) < 0) {
            const int error = errno;
            ::close(fd);
            return CallResult::not_supported("congestion control " + socket_congestion_control_ +
                                             ": " + std::strerror(error));
        }
        remember(fd);
        return CallResult::ok(fd);
    }

    CallResult bind(int fd) override {
        if (!owns(fd)) return CallResult::fail(EBADF);
        const SocketAddress address = address_for(fd, local_, options_.bind_port);
        return from_syscall(::bind(fd, address.get(), address.length));
    }

    CallResult listen(int fd, int backlog) override {
        if (!owns(fd)) return CallResult::fail(EBADF);
        return from_syscall(::listen(fd, backlog));
    }

    CallResult accept(int fd) override {
        if (!owns(fd)) return CallResult::fail(EBADF);
        CallResult result =
            blocking(blocking_limit_us_, [fd] { return ::accept(fd, nullptr, nullptr); });
        if (result.value >= 0 && result.unsupported.empty())
            remember(static_cast<int>(result.value));
        return result;
    }

    CallResult connect(int fd, bool unspec) override {
        if (!owns(fd)) return CallResult::fail(EBADF);
        if (unspec) {
            sockaddr none{};
            none.sa_family = AF_UNSPEC;
            return from_syscall(::connect(fd, &none, sizeof none));
        }
        const SocketAddress address = address_for(fd, remote_, options_.connect_port);
        return blocking(blocking_limit_us_,
                        [&] { return ::connect(fd, address.get(), address.length); });
    }

    CallResult recv(int fd, std::size_t length, int flags) override {
        if (!owns(fd)) return CallResult::fail(EBADF);
        if (length > kMaxBufferBytes) return CallResult::not_supported("recv of more than 64 MiB");
        std::vector<std::uint8_t> buffer(length);
        return blocking(blocking_limit_us_,
                        [&] { return ::recv(fd, buffer.data(), buffer.size(), flags); });
    }

    CallResult send(int fd, std::size_t length, int flags) override {
        if (!owns(fd)) return CallResult::fail(EBADF);
        if (length > kMaxBufferBytes) return CallResult::not_supported("send of more than 64 MiB");
        const std::vector<std::uint8_t> zeros(length);
        const int all_flags = flags | MSG_NOSIGNAL;
        if ((flags & MSG_FASTOPEN) != 0) {
            const SocketAddress address = address_for(fd, remote_, options_.connect_port);
            return blocking(blocking_limit_us_, [&] {
                return ::sendto(fd, zeros.data(), zeros.size(), all_flags, address.get(),
                                address.length);
            });
        }
        return blocking(blocking_limit_us_,
                        [&] { return ::send(fd, zeros.data(), zeros.size(), all_flags); });
    }

    CallResult shutdown(int fd, int how) override {
        if (!owns(fd)) return CallResult::fail(EBADF);
        return from_syscall(::shutdown(fd, how));
    }

    CallResult close(int fd) override {
        if (!owns(fd)) return CallResult::fail(EBADF);
        forget(fd);
        // SO_LINGER can make close block; Linux releases the fd whatever close returns.
        return blocking(blocking_limit_us_, [fd] { return ::close(fd); });
    }

    CallResult getsockopt(int fd, int level, int name, OptionValue& value) override {
        if (!owns(fd)) return CallResult::fail(EBADF);
        // The kernel says how long the value is: ask with room enough for any option the
        // scripts read (strings, struct linger, tcp_info) unless the caller sized the buffer.
        const std::size_t size =
            !value.is_int && !value.bytes.empty() ? value.bytes.size() : kDefaultOptionBuffer;
        if (size > kMaxOptionBytes) {
            return CallResult::not_supported("getsockopt buffer over 64 KiB");
        }
        std::vector<std::uint8_t> buffer(size);
        socklen_t length = static_cast<socklen_t>(size);
        const int result = ::getsockopt(fd, level, name, buffer.data(), &length);
        if (result < 0) return CallResult::fail(errno);
        buffer.resize(std::min<std::size_t>(length, size));
        value.is_int = buffer.size() == sizeof(int);
        value.integer = 0;
        if (value.is_int) {
            int integer = 0;
            std::memcpy(&integer, buffer.data(), sizeof integer);
            value.integer = integer;
        }
        value.bytes = std::move(buffer);
        return CallResult::ok(result);
    }

    CallResult setsockopt(int fd, int level, int name, const OptionValue& value) override {
        if (!owns(fd)) return CallResult::fail(EBADF);
        if (value.is_int) {
            const int integer = static_cast<int>(value.integer);
            return from_syscall(::setsockopt(fd, level, name, &integer, sizeof integer));
        }
        if (value.bytes.size() > kMaxOptionBytes) {
            return CallResult::not_supported("setsockopt value over 64 KiB");
        }
        return from_syscall(::setsockopt(fd, level, name, value.bytes.data(),
                                         static_cast<socklen_t>(value.bytes.size())));
    }

    CallResult fcntl(int fd, int command, std::int64_t argument) override {
        if (!owns(fd)) return CallResult::fail(EBADF);
        switch (command) {
            case F_GETFL:
            case F_GETFD: return from_syscall(::fcntl(fd, command));
            case F_SETFL:
            case F_SETFD: return from_syscall(::fcntl(fd, command, static_cast<int>(argument)));
            default: return CallResult::not_supported("fcntl command " + std::to_string(command));
        }
    }

    CallResult ioctl(int fd, unsigned long request, std::int64_t& value) override {
        if (!owns(fd)) return CallResult::fail(EBADF);
        int integer = static_cast<int>(value);
        switch (request) {
            case SIOCINQ:  // == FIONREAD
            case SIOCOUTQ:
            case SIOCOUTQNSD:
            case SIOCATMARK: break;
            default: return CallResult::not_supported("ioctl request " + std::to_string(request));
        }
        const int result = ::ioctl(fd, request, &integer);
        if (result < 0) return CallResult::fail(errno);
        value = integer;
        return CallResult::ok(result);
    }

    CallResult poll(std::vector<PollEntry>& entries, int timeout_ms) override {
        // An fd the target did not open answers POLLNVAL, as a closed one would, without being
        // handed to the kernel; poll then does not wait.
        std::vector<pollfd> watched(entries.size());
        int foreign = 0;
        for (std::size_t i = 0; i < entries.size(); ++i) {
            const bool invalid = entries[i].fd >= 0 && !owns(entries[i].fd);
            foreign += invalid ? 1 : 0;
            watched[i] = {invalid ? -1 : entries[i].fd, entries[i].events, 0};
        }
        CallResult result = blocking(blocking_limit_us_, [&] {
            return ::poll(watched.data(), watched.size(), foreign > 0 ? 0 : timeout_ms);
        });
        if (result.value < 0 || !result.unsupported.empty()) return result;
        for (std::size_t i = 0; i < entries.size(); ++i) {
            const bool invalid = entries[i].fd >= 0 && watched[i].fd < 0;
            entries[i].revents = invalid ? static_cast<short>(POLLNVAL) : watched[i].revents;
        }
        result.value += foreign;
        return result;
    }

    std::optional<TcpInfoSnapshot> tcp_info(int fd) override {
        if (!owns(fd)) return std::nullopt;
        struct tcp_info info {};
        socklen_t length = sizeof info;
        if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) < 0) return std::nullopt;
        TcpInfoSnapshot snapshot;
        snapshot.state = info.tcpi_state;
        snapshot.options = info.tcpi_options;
        snapshot.snd_mss = info.tcpi_snd_mss;
        snapshot.rcv_mss = info.tcpi_rcv_mss;
        snapshot.rto_us = info.tcpi_rto;
        snapshot.snd_cwnd_segments = info.tcpi_snd_cwnd;
        return snapshot;
    }

    void close_all() override {
        for (const int fd : open_fds()) {
            forget(fd);
            ::close(fd);
        }
    }

private:
    static constexpr std::int64_t kMaxSleepUs = 1'000'000'000'000'000;  // 31 years

    /// The calling thread is in the namespace the constructor made (see the header).
    bool in_target_namespace() const { return current_namespace_inode() == namespace_inode_; }

    bool owns(int fd) {
        const std::lock_guard lock(fds_mutex_);
        return fds_.count(fd) != 0;
    }
    void remember(int fd) {
        const std::lock_guard lock(fds_mutex_);
        fds_.insert(fd);
    }
    void forget(int fd) {
        const std::lock_guard lock(fds_mutex_);
        fds_.erase(fd);
    }
    std::vector<int> open_fds() {
        const std::lock_guard lock(fds_mutex_);
        return {fds_.begin(), fds_.end()};
    }

    TargetOptions options_;
    std::int64_t blocking_limit_us_;
    in_addr local_;
    in_addr remote_;
    linux_target_detail::LinuxSandbox sandbox_;  // declared before capture_: outlives it
    std::int64_t epoch_ns_;
    linux_target_detail::TunCapture capture_;
    ino_t namespace_inode_;
    RaisedPriority priority_;
    // Set on each new TCP socket when the namespace's default cannot be (host restriction).
    std::string socket_congestion_control_;
    std::mutex fds_mutex_;  // a blocking call may run on another thread of the interpreter
    std::set<int> fds_;
};

}  // namespace

std::unique_ptr<Target> make_linux_target(const TargetOptions& options) {
    return make_linux_target(options, kBlockingLimitUs);
}

std::unique_ptr<Target> make_linux_target(const TargetOptions& options,
                                          std::int64_t blocking_limit_us) {
    return std::make_unique<LinuxTarget>(options, blocking_limit_us);
}

}  // namespace netloom::drill
