// tap: frames to and from a Linux TAP interface through /dev/net/tun.
#include "tap_device.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "device_identity.hpp"

namespace netloom::drivers {
namespace {

constexpr std::size_t kVlanTag = 4;  // the kernel may hand us 802.1Q-tagged frames

// Closes on scope exit: the control socket for the interface ioctls.
struct FdGuard {
    int fd;
    ~FdGuard() {
        if (fd >= 0) ::close(fd);
    }
};

void copy_name(ifreq& request, const std::string& name) {
    std::memset(&request, 0, sizeof request);
    std::memcpy(request.ifr_name, name.data(), name.size());  // length checked by from_config
}

}  // namespace

TapOptions TapOptions::from_config(const Config& config, std::string_view stack_name) {
    TapOptions options;
    config.allow({"use"});  // read by the host to pick this plugin
    options.name = config.get_string("name");
    if (options.name.empty() || options.name.size() >= IFNAMSIZ ||
        options.name.find_first_of("/ :\t\n") != std::string::npos || options.name == "." ||
        options.name == "..") {
        config.fail("name", "an interface name of 1 to 15 characters without '/', ':' or spaces",
                    "\"" + options.name + "\"");
    }
    options.mac = read_mac(config, stack_name, "tap:" + options.name);
    options.mtu = read_mtu(config, TapDevice::kMaxMtu);
    if (config.has("persist")) options.persist = config.get_bool("persist");
    config.allow({"persist"});
    options.up = config.get_bool("up", true);
    config.done();
    return options;
}

TapDevice::TapDevice(TapOptions options)
    : options_(std::move(options)), frame_capacity_(options_.mtu + kEthernetHeader + kVlanTag) {
    if (options_.check_only) return;  // fd_ stays -1: a checked composition is never run
    fd_ = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) fail("cannot open /dev/net/tun", errno);
    ifreq request;
    copy_name(request, options_.name);
    request.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (::ioctl(fd_, TUNSETIFF, &request) < 0) {
        int error = errno;
        ::close(fd_);
        fd_ = -1;
        fail("cannot create or attach the TAP interface (TUNSETIFF)", error);
    }
    try {
        if (options_.persist && ::ioctl(fd_, TUNSETPERSIST, *options_.persist ? 1 : 0) < 0) {
            fail("cannot set persistence (TUNSETPERSIST)", errno);
        }
        configure_interface();
    } catch (...) {
        ::close(fd_);
        throw;
    }
}

void TapDevice::configure_interface() {
    FdGuard control{::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
    if (control.fd < 0) fail("cannot open a control socket", errno);
    ifreq request;
    copy_name(request, options_.name);
    request.ifr_mtu = static_cast<int>(options_.mtu);
    if (::ioctl(control.fd, SIOCSIFMTU, &request) < 0) {
        fail("cannot set MTU " + std::to_string(options_.mtu) + " (SIOCSIFMTU)", errno);
    }
    if (!options_.up) return;
    copy_name(request, options_.name);
    if (::ioctl(control.fd, SIOCGIFFLAGS, &request) < 0) fail("cannot read flags", errno);
    if ((request.ifr_flags & IFF_UP) == 0) {
        request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
        if (::ioctl(control.fd, SIOCSIFFLAGS, &request) < 0) {
            fail("cannot bring the interface up (SIOCSIFFLAGS)", errno);
        }
    }
}

void TapDevice::fail(const std::string& what, int error) const {
    std::string message = "tap(" + options_.name + "): " + what + ": " + std::strerror(error);
    if (error == EPERM || error == EACCES) {
        message += " (needs root or CAP_NET_ADMIN)";
    } else if (error == ENOENT || error == ENODEV) {
        message += " (is the tun module loaded? try `modprobe tun`)";
    } else if (error == EBUSY) {
        message += " (another process holds this interface)";
    } else if (error == EINVAL) {
        message += " (does an interface of another type have this name?)";
    }
    throw std::runtime_error(message);
}

TapDevice::~TapDevice() {
    if (watch_ != 0) scheduler_->unwatch(watch_);
    if (fd_ >= 0) ::close(fd_);
}

void TapDevice::attach(Scheduler& scheduler, std::function<void()> rx_ready) {
    if (watch_ != 0) scheduler_->unwatch(watch_);
    scheduler_ = &scheduler;
    rx_ready_ = std::move(rx_ready);
    watch_ = scheduler_->watch_readable(fd_, [this] { rx_ready_(); });
}

bool TapDevice::transmit(Packet&& frame) {
    const std::size_t bytes = frame.size();
    if (bytes < kEthernetHeader) {
        ++tx_dropped_runt_;
        return false;
    }
    if (bytes > options_.mtu + kEthernetHeader) {
        ++tx_dropped_too_big_;
        return false;
    }
    for (;;) {
        ssize_t n = ::write(fd_, frame.data(), bytes);
        if (n >= 0) break;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
            ++tx_dropped_busy_;
        } else {
            ++tx_dropped_error_;  // e.g. EIO while the interface is down
        }
        return false;
    }
    ++tx_frames_;
    tx_bytes_ += bytes;
    return true;
}

std::size_t TapDevice::poll(std::size_t max, const FrameSink& sink) {
    std::size_t received = 0;
    while (received < max) {
        if (!spare_) spare_ = Packet::allocate(frame_capacity_);
        ssize_t n = ::read(fd_, spare_.data(), spare_.tailroom());
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) ++rx_errors_;
            break;
        }
        if (n == 0) break;
        Packet frame = std::move(spare_);
        frame.append(static_cast<std::size_t>(n));
        ++received;
        rx_bytes_ += static_cast<std::size_t>(n);
        sink(std::move(frame));
    }
    rx_frames_ += received;
    return received;
}

void TapDevice::visit_counters(const CounterVisitor& visit) const {
    visit("rx_frames", rx_frames_);
    visit("rx_bytes", rx_bytes_);
    visit("rx_errors", rx_errors_);
    visit("tx_frames", tx_frames_);
    visit("tx_bytes", tx_bytes_);
    visit("tx_dropped_busy", tx_dropped_busy_);
    visit("tx_dropped_error", tx_dropped_error_);
    visit("tx_dropped_too_big", tx_dropped_too_big_);
    visit("tx_dropped_runt", tx_dropped_runt_);
}

std::unique_ptr<TapDevice> make_tap_device(const Config& config, Env& env) {
    auto options = TapOptions::from_config(config, env.stack_name());
    options.check_only = env.check_only();
    if (options.check_only) return std::make_unique<TapDevice>(std::move(options));
    auto device = std::make_unique<TapDevice>(std::move(options));
    env.logger("driver.tap")
        ->info("tap({}): attached, mtu {}, netloom mac {}", device->name(), device->mtu(),
               device->mac().to_string());
    return device;
}

}  // namespace netloom::drivers
