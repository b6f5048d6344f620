// linux_target_netns.cpp — see linux_target_netns.hpp; the sysctl baseline is explained in
// linux_target.hpp.
#include "linux_target_netns.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>

namespace netloom::drill::linux_target_detail {
namespace {

[[noreturn]] void fail(const std::string& step, int error) {
    throw std::runtime_error("linux target: " + step + ": " + std::strerror(error));
}

/// Closes on scope exit.
struct ScopedFd {
    int fd = -1;
    explicit ScopedFd(int f) : fd(f) {}
    ~ScopedFd() {
        if (fd >= 0) ::close(fd);
    }
    ScopedFd(const ScopedFd&) = delete;
    ScopedFd& operator=(const ScopedFd&) = delete;
};

std::uint32_t prefix_mask(int prefix_length) {
    return prefix_length == 0 ? 0u : ~std::uint32_t{0} << (32 - prefix_length);
}

bool proc_sys_exists(const std::string& path) {
    struct stat info {};
    return ::stat(("/proc/sys/" + path).c_str(), &info) == 0;
}

/// One baseline setting: the path under /proc/sys, the value, and whether a kernel without the
/// file (IPv6 not built in) may skip it.
struct BaselineSetting {
    const char* path;
    const char* value;
    bool optional;
};

// Why each one: linux_target.hpp. IPv6 goes off before the TUN exists so the device never gets
// a link-local address (no DAD, router solicitation or MLD report ever leaves it).
constexpr std::array<BaselineSetting, 4> kBaseline{{
    {"net/ipv6/conf/all/disable_ipv6", "1", true},
    {"net/ipv6/conf/default/disable_ipv6", "1", true},
    {"net/ipv4/tcp_rmem", "4096 131072 6291456", false},
    {"net/ipv4/tcp_wmem", "4096 16384 4194304", false},
}};

void apply_baseline() {
    for (const BaselineSetting& setting : kBaseline) {
        if (setting.optional && !proc_sys_exists(setting.path)) continue;
        const std::string why = write_proc_sys(setting.path, setting.value);
        if (!why.empty()) {
            throw std::runtime_error("linux target: baseline sysctl " + std::string(setting.path) +
                                     ": " + why);
        }
    }
}

ifreq interface_request(const char* name) {
    ifreq request{};
    std::strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    return request;
}

void bring_up(int control, const char* name) {
    ifreq request = interface_request(name);
    if (::ioctl(control, SIOCGIFFLAGS, &request) < 0) {
        fail(std::string("reading the flags of ") + name, errno);
    }
    request.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (::ioctl(control, SIOCSIFFLAGS, &request) < 0) {
        fail(std::string("bringing ") + name + " up", errno);
    }
}

void set_ipv4(int control, unsigned long request_code, in_addr address, const char* step) {
    ifreq request = interface_request(kDeviceName);
    sockaddr_in socket_address{};
    socket_address.sin_family = AF_INET;
    socket_address.sin_addr = address;
    std::memcpy(&request.ifr_addr, &socket_address, sizeof socket_address);
    if (::ioctl(control, request_code, &request) < 0) fail(step, errno);
}

/// RTM_NEWQDISC: a pfifo root qdisc (limit: the device's txqueuelen) replacing the default one,
/// because a host whose net.core.default_qdisc is `fq` would pace the flows (see the header).
void install_pfifo(int ifindex) {
    ScopedFd netlink(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (netlink.fd < 0) fail("opening an rtnetlink socket", errno);

    struct {
        nlmsghdr header;
        tcmsg message;
        alignas(NLMSG_ALIGNTO) unsigned char attributes[RTA_SPACE(8)];
    } request{};
    constexpr char kKind[] = "pfifo";
    auto* kind = reinterpret_cast<rtattr*>(request.attributes);
    kind->rta_type = TCA_KIND;
    kind->rta_len = RTA_LENGTH(sizeof kKind);
    std::memcpy(RTA_DATA(kind), kKind, sizeof kKind);
    request.header.nlmsg_len = NLMSG_LENGTH(sizeof(tcmsg)) + RTA_ALIGN(kind->rta_len);
    request.header.nlmsg_type = RTM_NEWQDISC;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
    request.header.nlmsg_seq = 1;
    request.message.tcm_family = AF_UNSPEC;
    request.message.tcm_ifindex = ifindex;
    request.message.tcm_parent = TC_H_ROOT;

    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(netlink.fd, &request, request.header.nlmsg_len, 0,
                 reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
        fail("sending RTM_NEWQDISC", errno);
    }
    alignas(nlmsghdr) unsigned char reply[4096];
    const ssize_t length = ::recv(netlink.fd, reply, sizeof reply, 0);
    if (length < 0) fail("reading the RTM_NEWQDISC acknowledgement", errno);
    const auto* header = reinterpret_cast<const nlmsghdr*>(reply);
    if (!NLMSG_OK(header, static_cast<unsigned>(length)) || header->nlmsg_type != NLMSG_ERROR) {
        throw std::runtime_error("linux target: unexpected reply to RTM_NEWQDISC");
    }
    const auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(header));
    if (error->error != 0)
        fail("installing a pfifo qdisc on " + std::string(kDeviceName), -error->error);
}

/// A host route to `remote` over the TUN, through `gateway` when that is on the local subnet.
void add_route(int control, in_addr remote, std::optional<in_addr> gateway) {
    rtentry route{};
    auto* destination = reinterpret_cast<sockaddr_in*>(&route.rt_dst);
    destination->sin_family = AF_INET;
    destination->sin_addr = remote;
    auto* mask = reinterpret_cast<sockaddr_in*>(&route.rt_genmask);
    mask->sin_family = AF_INET;
    mask->sin_addr.s_addr = INADDR_BROADCAST;
    route.rt_flags = RTF_UP | RTF_HOST;
    if (gateway) {
        auto* via = reinterpret_cast<sockaddr_in*>(&route.rt_gateway);
        via->sin_family = AF_INET;
        via->sin_addr = *gateway;
        route.rt_flags |= RTF_GATEWAY;
    }
    char device[IFNAMSIZ];
    std::strncpy(device, kDeviceName, IFNAMSIZ - 1);
    device[IFNAMSIZ - 1] = '\0';
    route.rt_dev = device;
    if (::ioctl(control, SIOCADDRT, &route) < 0) fail("adding the route to remote_ip", errno);
}

}  // namespace

in_addr parse_ipv4(const std::string& text, const char* what) {
    in_addr address{};
    if (::inet_pton(AF_INET, text.c_str(), &address) != 1) {
        throw std::runtime_error(std::string("linux target: ") + what + " '" + text +
                                 "' is not an IPv4 address");
    }
    return address;
}

std::string write_proc_sys(const std::string& path, const std::string& value, int* error) {
    const std::string file = "/proc/sys/" + path;
    if (error != nullptr) *error = 0;
    const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        if (error != nullptr) *error = errno;
        if (errno == ENOENT) return "no such setting " + file + " on this kernel";
        return "cannot open " + file + ": " + std::strerror(errno);
    }
    const std::string text = value + "\n";
    const ssize_t written = ::write(fd, text.data(), text.size());
    const int write_error = errno;
    ::close(fd);
    if (written < 0) {
        if (error != nullptr) *error = write_error;
        if (write_error == EINVAL) return "invalid value '" + value + "' for " + file;
        return "cannot write " + file + ": " + std::strerror(write_error);
    }
    if (static_cast<std::size_t>(written) != text.size()) {
        if (error != nullptr) *error = EIO;
        return "short write to " + file;
    }
    return "";
}

LinuxSandbox::LinuxSandbox(const TargetOptions& options) {
    if (options.ip_version != 4) {
        throw std::runtime_error("linux target: only --ip_version=ipv4 is implemented");
    }
    if (options.mtu < 68 || options.mtu > 65535) {
        throw std::runtime_error("linux target: mtu " + std::to_string(options.mtu) +
                                 " is outside 68..65535");
    }
    if (options.prefix_length < 1 || options.prefix_length > 32) {
        throw std::runtime_error("linux target: prefix length " +
                                 std::to_string(options.prefix_length) + " is outside 1..32");
    }
    original_namespace_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (original_namespace_ < 0) fail("opening /proc/thread-self/ns/net", errno);
    if (::unshare(CLONE_NEWNET) < 0) {
        const int error = errno;
        release();
        if (error == EPERM) {
            throw std::runtime_error(
                "linux target: needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) to create a network "
                "namespace and a TUN device");
        }
        fail("unshare(CLONE_NEWNET)", error);
    }
    moved_ = true;
    try {
        configure(options);
    } catch (...) {
        release();
        throw;
    }
}

LinuxSandbox::~LinuxSandbox() {
    release();
}

void LinuxSandbox::configure(const TargetOptions& options) {
    const in_addr local = parse_ipv4(options.local_ip, "local_ip");
    const in_addr remote = parse_ipv4(options.remote_ip, "remote_ip");
    const std::uint32_t mask = prefix_mask(options.prefix_length);
    const auto same_subnet = [&](in_addr a) {
        return (ntohl(a.s_addr) & mask) == (ntohl(local.s_addr) & mask);
    };
    if (remote.s_addr == local.s_addr) {
        throw std::runtime_error("linux target: remote_ip equals local_ip");
    }
    std::optional<in_addr> gateway;
    if (!options.gateway_ip.empty()) {
        const in_addr via = parse_ipv4(options.gateway_ip, "gateway_ip");
        if (same_subnet(via) && via.s_addr != local.s_addr) gateway = via;
    }

    apply_baseline();
    // Only the initial namespace may make an algorithm outside the host's
    // tcp_allowed_congestion_control the default (EPERM here); the target then sets it on each
    // socket instead (allowed for CAP_NET_ADMIN).
    int error = 0;
    const std::string why =
        write_proc_sys("net/ipv4/tcp_congestion_control", kCongestionControl, &error);
    if (!why.empty() && error != EPERM) throw std::runtime_error("linux target: " + why);
    congestion_control_is_default_ = why.empty();
    ScopedFd control(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (control.fd < 0) fail("opening a control socket", errno);
    bring_up(control.fd, "lo");

    tun_fd_ = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (tun_fd_ < 0) fail("opening /dev/net/tun", errno);
    ifreq request = interface_request(kDeviceName);
    request.ifr_flags = IFF_TUN | IFF_NO_PI;
    if (::ioctl(tun_fd_, TUNSETIFF, &request) < 0)
        fail("creating the TUN device (TUNSETIFF)", errno);
    if (proc_sys_exists(std::string("net/ipv6/conf/") + kDeviceName)) {
        const std::string why =
            write_proc_sys(std::string("net/ipv6/conf/") + kDeviceName + "/disable_ipv6", "1");
        if (!why.empty()) throw std::runtime_error("linux target: " + why);
    }

    ifreq mtu_request = interface_request(kDeviceName);
    mtu_request.ifr_mtu = static_cast<int>(options.mtu);
    if (::ioctl(control.fd, SIOCSIFMTU, &mtu_request) < 0) {
        fail("setting MTU " + std::to_string(options.mtu), errno);
    }
    set_ipv4(control.fd, SIOCSIFADDR, local, "setting local_ip on the TUN device");
    set_ipv4(control.fd, SIOCSIFNETMASK, in_addr{htonl(mask)}, "setting the prefix length");
    bring_up(control.fd, kDeviceName);
    const unsigned ifindex = ::if_nametoindex(kDeviceName);
    if (ifindex == 0) fail("looking up the TUN device's index", errno);
    install_pfifo(static_cast<int>(ifindex));
    add_route(control.fd, remote, gateway);
}

void LinuxSandbox::release() noexcept {
    if (tun_fd_ >= 0) {
        ::close(tun_fd_);
        tun_fd_ = -1;
    }
    if (moved_ && original_namespace_ >= 0) {
        // Best effort: a failure here leaves the thread in the script's namespace, which the
        // process exiting frees anyway.
        (void)::setns(original_namespace_, CLONE_NEWNET);
    }
    moved_ = false;
    if (original_namespace_ >= 0) {
        ::close(original_namespace_);
        original_namespace_ = -1;
    }
}

}  // namespace netloom::drill::linux_target_detail
